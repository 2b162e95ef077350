"""Business minutes for many tickets at once.

`sla.working_minutes` walks the calendar day by day for one interval: right for one ticket, too slow for the
tens of thousands a report measures. `BusinessClock` lays a calendar's working windows out once over a range
of days, with the working minutes before each window; then the business minutes between two moments are two
binary searches. The two agree to the second (tests/unit/test_report_metrics.py checks it).
"""

from __future__ import annotations

import json
from bisect import bisect_right
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from portal.models import BusinessCalendar


class BusinessClock:
    def __init__(self, calendar: BusinessCalendar, first: datetime, last: datetime) -> None:
        zone = ZoneInfo(calendar.timezone or "UTC")
        holidays = {h.day for h in calendar.holidays}
        hours = calendar.hours or {}
        self._opens: list[datetime] = []
        self._closes: list[datetime] = []
        self._before: list[float] = []  # working seconds in the windows before this one
        total = 0.0
        day: date = first.replace(tzinfo=UTC).astimezone(zone).date() - timedelta(days=1)
        end_day = last.replace(tzinfo=UTC).astimezone(zone).date() + timedelta(days=1)
        self.first, self.last = first, last
        self._zone, self._days = zone, (day + timedelta(days=1), end_day - timedelta(days=1))
        while day <= end_day:
            span = hours.get(str(day.weekday()))
            if span and day not in holidays:
                opens, closes = (datetime.combine(day, time.fromisoformat(t), tzinfo=zone).astimezone(UTC)
                                 .replace(tzinfo=None) for t in span)
                if opens < closes:
                    self._opens.append(opens)
                    self._closes.append(closes)
                    self._before.append(total)
                    total += (closes - opens).total_seconds()
            day += timedelta(days=1)
        self._total = total

    def covers(self, first: datetime, last: datetime) -> bool:
        """Laid out over every day from `first` to `last` (what a clock made for them would hold)."""
        return self._days[0] <= _local_day(first, self._zone) and _local_day(last, self._zone) <= self._days[1]

    def _elapsed(self, moment: datetime) -> float:
        """Working seconds from the start of the laid-out range until `moment`."""
        index = bisect_right(self._opens, moment) - 1
        if index < 0:
            return 0.0
        inside = min(moment, self._closes[index]) - self._opens[index]
        return self._before[index] + max(inside.total_seconds(), 0.0)

    def minutes(self, start: datetime, end: datetime) -> float:
        if end <= start:
            return 0.0
        return (self._elapsed(end) - self._elapsed(start)) / 60

    def late_after(self, start: datetime, minutes: float) -> datetime | None:
        """The last moment at which no more than `minutes` working minutes have passed since `start`: any later
        moment is past the target. None when that moment lies beyond the laid-out days."""
        target = self._elapsed(start) + minutes * 60
        index = bisect_right(self._before, target) - 1
        if index < 0:
            return None
        moment = self._opens[index] + timedelta(seconds=target - self._before[index])
        if moment > self._closes[index] or (moment == self._closes[index] and index == len(self._opens) - 1):
            return None
        return moment


def calendar_minutes(start: datetime, end: datetime) -> float:
    return max((end - start).total_seconds(), 0.0) / 60


def _local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.replace(tzinfo=UTC).astimezone(zone).date()


# Clocks already laid out, by what defines a calendar: measuring one ticket at commit would otherwise lay its
# calendar out over the ticket's whole life (a year is most of the work) on every change.
_laid_out: dict[tuple, BusinessClock] = {}
_KEEP = 64
_AHEAD = timedelta(days=60)  # laid out further than asked, so that "now + margin" moving on does not re-lay it


def shared_clock(calendar: BusinessCalendar, first: datetime, last: datetime) -> BusinessClock:
    """A clock over at least `first`..`last`, shared between requests. A wider clock answers the same minutes
    between two moments inside both (the working time between them does not depend on where the layout starts)."""
    key = (calendar.id, calendar.timezone, json.dumps(calendar.hours or {}, sort_keys=True),
           tuple(sorted(h.day for h in calendar.holidays)))
    clock = _laid_out.get(key)
    if clock is not None and clock.covers(first, last):
        return clock
    if clock is not None:
        first, last = min(first, clock.first), max(last, clock.last)
    if len(_laid_out) >= _KEEP:
        _laid_out.clear()
    clock = _laid_out[key] = BusinessClock(calendar, first, last + _AHEAD)
    return clock
