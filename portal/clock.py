"""One notion of "now": naive UTC datetimes everywhere in the database."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
