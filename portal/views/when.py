"""One clock and one format for every date and time a person reads: pages, e-mails and CSV files.

The database holds naive UTC (portal.clock). People read the portal's time zone (`TIMEZONE`, Flask-Babel's
default time zone) in their own language, one style per context:

- `when(value)`: "7 Dec, 13:28" (with the year when it is not this year's: "7 Dec 2025, 13:28"), Spanish "7 dic,
  13:28". Lists, timelines, due times.
- `when(value, "date")`: "7 Dec 2026"; `when(value, "time")`: "13:28".
- `ago(value)`: "2 hr. ago" / "hace 2 h", for "last changed" columns, with the exact time on hover
  (`time_tag(value, relative=True)`).
- `when(value, "full")`: "December 7, 2026, 13:28 CET" for a hover title or an e-mail, naming the zone.
- `csv_time(value)`: "2026-12-07 13:28" in the portal's zone: sortable, and what the column header names.

Babel (through Flask-Babel) does the translating and the zone arithmetic; nothing here formats by hand, so a
new language or zone needs no change. Templates use the filters `when` and `ago` and the global `time_tag`;
Python code (mails, CSV) calls the functions.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from babel.dates import format_timedelta
from flask_babel import format_date, format_datetime, get_locale, get_timezone, gettext
from markupsafe import Markup, escape

from portal.clock import utcnow

STYLES = {"short": ("d MMM, HH:mm", "d MMM y, HH:mm"), "date": ("d MMM y", "d MMM y"), "time": ("HH:mm", "HH:mm")}


def _local(value: datetime) -> datetime:
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(get_timezone())


def when(value: datetime | date | str | None, style: str = "short") -> str:
    """`value` (naive UTC, or aware) as the person reads it, in the portal's zone and their language."""
    if value is None or isinstance(value, str):  # a date an author typed in an article's front matter
        return value or ""
    if not isinstance(value, datetime):  # a calendar date has no zone: shown as it is
        return format_date(value, "d MMM y")
    if style == "full":
        local = _local(value)
        return f"{format_date(local.date(), 'long')}, {local.strftime('%H:%M')} {local.tzname() or ''}".strip()
    this_year, other_year = STYLES.get(style, STYLES["short"])
    same_year = _local(value).year == _local(utcnow()).year
    return format_datetime(value, this_year if same_year else other_year)


def ago(value: datetime | None, now: datetime | None = None) -> str:
    """"2 hr. ago", "in 5 hr.", "hace 3 min": how long from now, to the minute."""
    if value is None:
        return ""
    moment = value.replace(tzinfo=None) if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)
    delta = moment - (now or utcnow())
    if abs(delta.total_seconds()) < 60:
        return gettext("just now")
    # Flask-Babel's wrapper has no `format`: Babel's own function, with the reader's locale.
    return format_timedelta(delta, granularity="minute", add_direction=True, format="short", locale=get_locale())


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
    return Markup('<time datetime="{}" title="{}">{}</time>').format(stamp, when(value, "full"), escape(text))
