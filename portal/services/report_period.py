"""The period half of the dashboard: tickets created and solved in a period, how fast (first reply and
resolution, median and 90th percentile, in business minutes where the SLA counts them), whether on target,
reopens, one-touch resolutions, satisfaction, and the same per agent. docs/metrics.md defines each figure.

The tickets' own figures come from the rollup (`models.TicketMetric`, kept by `report_rollup`): aggregates over
its `created_at` and `solved_at` indexes, plus one column of minutes each for the medians and percentiles. Replies
and ratings are range scans on the messages and ratings of the period.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, or_, select

from portal.models import SatisfactionRating, Ticket, User
from portal.models.reports import ReplyMetric, TicketMetric
from portal.services.reports import Period, ReportFilters, median, percentile, rate, where_for

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@dataclass
class Duration:
    """Minutes: the median and the 90th percentile, over `count` tickets."""

    median: float | None
    p90: float | None
    count: int

    @classmethod
    def of(cls, values: list[float]) -> Duration:
        return cls(median(values), percentile(values, 0.9), len(values))


@dataclass
class Compliance:
    met: int = 0
    measured: int = 0

    @property
    def rate(self) -> float | None:
        return rate(self.met, self.measured)


@dataclass
class AgentRow:
    agent_id: int
    name: str
    solved: int = 0
    replies: int = 0
    first_reply: float | None = None
    first_replies: int = 0  # the tickets the median is over
    good: int = 0
    bad: int = 0

    @property
    def csat(self) -> float | None:
        return rate(self.good, self.good + self.bad)


@dataclass
class Comment:
    ref: str
    rating: str
    comment: str
    at: datetime


@dataclass
class PeriodFigures:
    period: Period
    created_per_day: dict[date, int]
    solved_per_day: dict[date, int]
    first_reply: Duration
    resolution: Duration
    sla_first_reply: Compliance
    sla_resolution: Compliance
    solved: int
    reopened: int
    one_touch: int
    good: int
    bad: int
    comments: list[Comment]
    agents: list[AgentRow] = field(default_factory=list)

    @property
    def created(self) -> int:
        return sum(self.created_per_day.values())

    @property
    def reopen_rate(self) -> float | None:
        return rate(self.reopened, self.solved)

    @property
    def one_touch_rate(self) -> float | None:
        return rate(self.one_touch, self.solved)

    @property
    def ratings(self) -> int:
        return self.good + self.bad

    @property
    def csat(self) -> float | None:
        return rate(self.good, self.ratings)


def period_figures(session: Session, *, actor: User, period: Period, filters: ReportFilters,
                   now: datetime) -> PeriodFigures:
    """Tickets created and solved in the period, how fast, whether on target, and what customers said."""
    start, end = period.start, min(period.end, now)
    rollup = where_for(actor, filters, source=TicketMetric)
    created_here = [TicketMetric.created_at >= start, TicketMetric.created_at < end, *rollup]
    solved_here = [TicketMetric.solved_at >= start, TicketMetric.solved_at < end, *rollup]

    created_per_day, sla_first, answered = dict.fromkeys(period.days, 0), Compliance(), 0
    for day, count, replied, met, measured, late in session.execute(
            select(TicketMetric.created_on, func.count(), func.count(TicketMetric.first_reply_minutes),
                   func.count().filter(TicketMetric.first_reply_met.is_(True)),
                   func.count(TicketMetric.first_reply_met),
                   # no reply yet and already late: a miss whatever happens next
                   func.count().filter(TicketMetric.first_reply_late_after < now))
            .where(*created_here).group_by(TicketMetric.created_on)):
        created_per_day[day] += count
        answered += replied
        sla_first.met += met
        sla_first.measured += measured + late
    first_reply = _duration(session, TicketMetric.first_reply_minutes, created_here, answered)
    agent_first = _medians_per_agent(session, TicketMetric.first_reply_minutes, created_here)

    solved_per_day, sla_resolution, reopened, one_touch = dict.fromkeys(period.days, 0), Compliance(), 0, 0
    solved_by: dict[int, int] = defaultdict(int)
    for day, assignee_id, count, met, measured, reopens, one_reply in session.execute(
            select(TicketMetric.solved_on, TicketMetric.assignee_id, func.count(),
                   func.count().filter(TicketMetric.resolution_met.is_(True)), func.count(TicketMetric.resolution_met),
                   func.count().filter(TicketMetric.reopened.is_(True)),
                   func.count().filter(TicketMetric.agent_replies == 1))
            .where(*solved_here).group_by(TicketMetric.solved_on, TicketMetric.assignee_id)):
        solved_per_day[day] += count
        if assignee_id is not None:
            solved_by[assignee_id] += count
        sla_resolution.met += met
        sla_resolution.measured += measured
        reopened += reopens
        one_touch += one_reply
    solved = sum(solved_per_day.values())
    resolution = _duration(session, TicketMetric.resolution_minutes, solved_here, solved)

    where = where_for(actor, filters)
    ratings = session.execute(
        select(SatisfactionRating.rating, SatisfactionRating.comment, SatisfactionRating.updated_at, Ticket.ref,
               Ticket.assignee_id).join(Ticket, Ticket.id == SatisfactionRating.ticket_id)
        .where(SatisfactionRating.updated_at >= start, SatisfactionRating.updated_at < end, *where)).all()
    comments = sorted((Comment(r.ref, r.rating, r.comment, r.updated_at) for r in ratings if r.comment),
                      key=lambda c: c.at, reverse=True)[:5]
    replies = dict(session.execute(
        select(ReplyMetric.author_id, func.count())
        .where(ReplyMetric.created_at >= start, ReplyMetric.created_at < end,
               *where_for(actor, filters, source=ReplyMetric)).group_by(ReplyMetric.author_id)).all())
    agents = _agent_rows(session, solved_by, replies, agent_first, ratings)
    good = sum(r.rating == "good" for r in ratings)
    return PeriodFigures(
        period=period, created_per_day=created_per_day, solved_per_day=solved_per_day,
        first_reply=first_reply, resolution=resolution, sla_first_reply=sla_first,
        sla_resolution=sla_resolution, solved=solved, reopened=reopened, one_touch=one_touch,
        good=good, bad=len(ratings) - good, comments=comments, agents=agents)


def _duration(session: Session, column, where: list, count: int) -> Duration:
    """The median and 90th percentile of `count` values, read by rank in SQL: one sort in the database instead of
    every value through Python. The same ranks as `reports.median` and `reports.percentile`."""
    if not count:
        return Duration(None, None, 0)
    low, high, p90 = (count + 1) // 2, count // 2 + 1, max(math.ceil(0.9 * count), 1)
    ranked = select(column.label("value"), func.row_number().over(order_by=column).label("rank")) \
        .where(*where, column.is_not(None)).subquery()
    values = dict(session.execute(select(ranked.c.rank, ranked.c.value)
                                  .where(ranked.c.rank.in_({low, high, p90}))).all())
    middle = values[low] if low == high else (values[low] + values[high]) / 2
    return Duration(middle, values[p90], count)


def _medians_per_agent(session: Session, column, where: list) -> dict[int, tuple[float, int]]:
    """Each assignee's median and how many values it is over, from the one or two middle rows of each assignee's
    values ranked in SQL."""
    ranked = select(TicketMetric.assignee_id.label("agent"), column.label("value"),
                    func.row_number().over(partition_by=TicketMetric.assignee_id, order_by=column).label("rank"),
                    func.count().over(partition_by=TicketMetric.assignee_id).label("count")) \
        .where(*where, column.is_not(None), TicketMetric.assignee_id.is_not(None)).subquery()
    middles: dict[int, list[float]] = defaultdict(list)
    counts: dict[int, int] = {}
    for agent, value, count in session.execute(
            select(ranked.c.agent, ranked.c.value, ranked.c.count)
            .where(or_(ranked.c.rank == (ranked.c.count + 1) // 2, ranked.c.rank == ranked.c.count // 2 + 1))
            .order_by(ranked.c.agent, ranked.c.rank)):
        middles[agent].append(value)
        counts[agent] = count
    return {agent: (values[0] if len(values) == 1 else (values[0] + values[1]) / 2, counts[agent])
            for agent, values in middles.items()}


def _agent_rows(session: Session, solved_by: dict[int, int], replies: dict[int, int],
                first: dict[int, tuple[float, int]], ratings) -> list[AgentRow]:
    ids = set(solved_by) | set(replies) | set(first) | {r.assignee_id for r in ratings if r.assignee_id}
    names = dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all()) if ids else {}
    rows = {i: AgentRow(i, names.get(i, "?"), solved=solved_by.get(i, 0), replies=replies.get(i, 0),
                        first_reply=first.get(i, (None, 0))[0], first_replies=first.get(i, (None, 0))[1])
            for i in ids if i in names}
    for r in ratings:
        if r.assignee_id in rows:
            rows[r.assignee_id].good += r.rating == "good"
            rows[r.assignee_id].bad += r.rating == "bad"
    return sorted(rows.values(), key=lambda a: (-a.solved, a.name))
