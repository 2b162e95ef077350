"""One clock and one format for every date and time a person reads: pages, e-mails and CSV files.

The database holds naive UTC (portal.clock). People read the portal's time zone (`TIMEZONE`, Flask-Babel's
default time zone) in their own language, one style per context:

- `when(value)`: "7 Dec, 13:28" (with the year when it is not this year's: "7 Dec 2025, 13:28"), Spanish "7 dic,
  13:28". Lists, timelines, due times.
- `when(value, "date")`: "7 Dec 2026"; `when(value, "time")`: "13:28".
- `ago(value)`: "2 hr. ago" / "hace 2 h", for "last changed" columns, with the exact time on hover
  (`time_tag(value, relative=True)`).
- `when(value, "full")`: "7 Dec 2026, 13:28 CET" for a hover title or an e-mail, naming the zone.
- `csv_time(value)`: "2026-12-07 13:28" in the portal's zone: sortable, and what the column header names.

Babel (through Flask-Babel) does the translating and the zone arithmetic; nothing here formats by hand, so a
new language or zone needs no change. Templates use the filters `when` and `ago` and the global `time_tag`;
Python code (mails, CSV) calls the functions.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from babel import Locale
from babel.dates import format_date, format_datetime, format_timedelta
from flask import g, has_request_context
from flask_babel import get_locale, get_timezone, gettext
from markupsafe import Markup

from portal.clock import utcnow

STYLES = {"short": ("d MMM, HH:mm", "d MMM y, HH:mm"), "date": ("d MMM y", "d MMM y"), "time": ("HH:mm", "HH:mm")}


def _zone():
    """The portal's zone and the current year there, looked up once per request: a queue page formats a hundred
    times, and Flask-Babel's lookups were most of the cost (226 µs a row before, see the commit)."""
    cached = g.get("_when_zone") if has_request_context() else None
    if cached is None:
        zone = get_timezone()
        cached = (zone, utcnow().replace(tzinfo=UTC).astimezone(zone).year)
        if has_request_context():
            g._when_zone = cached
    return cached


def _local(value: datetime) -> datetime:
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(_zone()[0])


# What people read is to the minute, so the same minute in the same pattern and language is formatted once per
# process: a queue re-rendered every few seconds asks for the same few hundred. Babel costs ~100 µs a call.
@lru_cache(maxsize=8192)
def _pattern(local_minute: datetime, pattern: str, locale: Locale) -> str:
    return format_datetime(local_minute, pattern, locale=locale)


@lru_cache(maxsize=4096)
def _minutes(minutes: int, locale: Locale) -> str:
    return format_timedelta(timedelta(minutes=minutes), granularity="minute", add_direction=True, format="short",
                            locale=locale)


def when(value: datetime | date | str | None, style: str = "short") -> str:
    """`value` (naive UTC, or aware) as the person reads it, in the portal's zone and their language."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):  # a date an author typed in an article's front matter: "2026-11-20" reads "20 Nov 2026"
        try:
            value = date.fromisoformat(value.strip()[:10])
        except ValueError:
            return value
    locale = get_locale()
    if not isinstance(value, datetime):  # a calendar date has no zone: shown as it is
        return format_date(value, "d MMM y", locale=locale)
    local = _local(value).replace(second=0, microsecond=0)
    if style == "full":  # every part, and the zone's name: for hover titles and e-mails
        return f"{_pattern(local, 'd MMM y, HH:mm', locale)} {local.tzname() or ''}".strip()
    this_year, other_year = STYLES.get(style, STYLES["short"])
    return _pattern(local, this_year if local.year == _zone()[1] else other_year, locale)


def ago(value: datetime | None, now: datetime | None = None) -> str:
    """"2 hr. ago", "in 5 hr.", "hace 3 min": how long from now, to the minute."""
    if value is None:
        return ""
    moment = value.replace(tzinfo=None) if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)
    delta = moment - (now or utcnow())
    if abs(delta.total_seconds()) < 60:
        return gettext("just now")
    return _minutes(round(delta.total_seconds() / 60), get_locale())


def csv_time(value: datetime | None) -> str:
    """Sortable local time for spreadsheets: "2026-12-07 13:28"."""
    return "" if value is None else _local(value).strftime("%Y-%m-%d %H:%M")


def time_tag(value: datetime | None, style: str = "short", relative: bool = False) -> Markup:
    """A <time> element: what the style says, the exact local time on hover, UTC for machines."""
    if value is None:
        return Markup('<span class="muted">—</span>')
    stamp = value.replace(tzinfo=None).isoformat(timespec="seconds") + "Z" if value.tzinfo is None \
        else value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
    text = ago(value) if relative else when(value, style)
    return Markup('<time datetime="%s" title="%s">%s</time>') % (stamp, when(value, "full"), text)  # % escapes
