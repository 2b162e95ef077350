"""Business minutes for many tickets at once.

`sla.working_minutes` walks the calendar day by day for one interval: right for one ticket, too slow for the
tens of thousands a report measures. `BusinessClock` lays a calendar's working windows out once over a range
of days, with the working minutes before each window; then the business minutes between two moments are two
binary searches. The two agree to the second (tests/unit/test_report_metrics.py checks it).
"""

from __future__ import annotations

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
