"""Signed, expiring links about one account (reset a password, confirm an address), without a table of tokens.

A link carries the account's id and a fingerprint of the account's state that the link's use changes: once used
(or once that state changes some other way) the fingerprint no longer matches and the link stops working.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from portal.errors import N_, DomainError
from portal.models import User


class InvalidLink(DomainError):
    """Expired, already used, for a deactivated account, or not ours: the person asks for a new link."""

    status_code = 400


class AccountLinks:
    def __init__(self, secret_key: str, max_age: int, *, salt: str, fingerprint: Callable[[User], str]) -> None:
        self.max_age = max_age
        self._fingerprint = fingerprint
        self._serializer = URLSafeTimedSerializer(secret_key, salt=salt)

    def make(self, user: User, **extra: str) -> str:
        return self._serializer.dumps({**extra, "u": user.id, "f": self._fingerprint(user)})

    def load(self, session: Session, token: str, *, now: datetime) -> tuple[User, dict]:
        """The active account the link was made for and the link's other values, while the link is younger than
        `max_age` and its fingerprint still matches."""
        try:
            payload, signed_at = self._serializer.loads(token, return_timestamp=True)
        except (BadSignature, SignatureExpired) as exc:
            raise InvalidLink(N_("This link is not valid.")) from exc
        if now.replace(tzinfo=UTC) - signed_at > timedelta(seconds=self.max_age):
            raise InvalidLink(N_("This link has expired."))
        if not isinstance(payload, dict) or not isinstance(payload.get("u"), int):
            raise InvalidLink(N_("This link is not valid."))
        user = session.get(User, payload["u"])
        if user is None or not user.active or not hmac.compare_digest(str(payload.get("f")), self._fingerprint(user)):
            raise InvalidLink(N_("This link has already been used."))
        return user, payload
