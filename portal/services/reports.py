"""The support dashboard's figures: the backlog now, and how fast and how well customers were helped over a
period. docs/metrics.md defines every figure; this module is that text in code.

An agent sees figures for the tickets assigned to them or in their groups; an admin sees everything.
This module holds what the user asks for (period and filters), who sees what, the backlog now and the
statistics; `report_period` has the figures over a period, `report_selfservice` the knowledge base's, and
`report_tables` the named tables behind the page and the CSV exports.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, or_, select

from portal.errors import N_, Invalid
from portal.integers import whole_number
from portal.models import (
    CHANNELS,
    PRIORITIES,
    Category,
    Group,
    Ticket,
    User,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session
    from sqlalchemy.sql import ColumnElement

OPEN_STATUSES = ("new", "open", "pending", "on_hold")
PAUSED = ("pending", "on_hold")
AGENT_ROLES = ("agent", "admin")
PRESETS = (7, 30, 90)
MAX_DAYS = 366
DUE_SOON = timedelta(hours=1)
LIST_LIMIT = 10


# ---- What the user asked for ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Whole UTC days, first to last inclusive; `preset` is 7, 30, 90, or 0 for custom dates."""

    first: date
    last: date
    preset: int

    @property
    def start(self) -> datetime:
        return day_start(self.first)

    @property
    def end(self) -> datetime:
        return day_start(self.last + timedelta(days=1))

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def day_start(day: date) -> datetime:
    """The first moment of a reporting day: days are UTC days, like every time in the database. The agent queue's
    date filters use the same days, so that a figure and the ticket list behind it agree."""
    return datetime.combine(day, datetime.min.time())


def parse_period(preset: str | None, first: str | None, last: str | None, *, now: datetime) -> Period:
    """"7", "30" or "90" (the last days, today included), or "custom" with two ISO dates. Bad input raises
    Invalid with a message that says what to type."""
    today = now.date()
    preset = (preset or "").strip() or ("custom" if (first or last) else "30")
    if preset != "custom":
        days = whole_number(preset)
        if days not in PRESETS:
            raise Invalid(N_("Choose the last 7, 30 or 90 days, or custom dates."), field="period")
        return Period(today - timedelta(days=days - 1), today, days)
    try:
        start_day, end_day = date.fromisoformat((first or "").strip()), date.fromisoformat((last or "").strip())
    except ValueError:
        raise Invalid(N_("Enter both dates as YYYY-MM-DD, for example %(example)s."), field="period",
                      example=today.isoformat()) from None
    if end_day < start_day:
        raise Invalid(N_("The period ends before it starts: swap the two dates."), field="period")
    if start_day > today:
        raise Invalid(N_("The period starts in the future."), field="period")
    if (end_day - start_day).days + 1 > MAX_DAYS:
        raise Invalid(N_("Choose a period of at most %(days)s days."), field="period", days=MAX_DAYS)
    return Period(start_day, min(end_day, today), 0)


@dataclass(frozen=True)
class ReportFilters:
    group: int | None = None
    agent: int | None = None
    channel: str = ""
    category: int | None = None
    language: str = ""
    priority: str = ""

    def as_args(self) -> dict[str, str]:
        values = {"group": self.group, "agent": self.agent, "channel": self.channel, "category": self.category,
                  "language": self.language, "priority": self.priority}
        return {key: str(value) for key, value in values.items() if value not in (None, "")}


def parse_filters(args: Mapping[str, str]) -> ReportFilters:
    """The filters of the query string; an empty value means "all"."""

    def number(name: str) -> int | None:
        text = (args.get(name) or "").strip()
        if not text:
            return None
        number = whole_number(text)
        if number is None:
            raise Invalid(N_("Choose one of the values offered."), field=name)
        return number

    channel, priority = (args.get("channel") or "").strip(), (args.get("priority") or "").strip()
    language = (args.get("language") or "").strip()
    if (channel and channel not in CHANNELS) or (priority and priority not in PRIORITIES) or len(language) > 8:
        raise Invalid(N_("Choose one of the values offered."), field="filters")
    return ReportFilters(group=number("group"), agent=number("agent"), channel=channel,
                         category=number("category"), language=language, priority=priority)


# ---- Whose tickets ---------------------------------------------------------------------------------------


def scope_conditions(actor: User, source: type = Ticket) -> list[ColumnElement[bool]]:
    """Admins: every ticket. Agents: tickets assigned to them or in one of their groups.

    `source` is the table with the ticket's assignee, group and filter columns: `Ticket`, or the rollup
    (`TicketMetric`) that copies them."""
    if actor.is_admin:
        return []
    return [mine_or_my_groups(actor, source)]


def mine_or_my_groups(actor: User, source: type = Ticket) -> ColumnElement[bool]:
    """Tickets assigned to the actor or in one of their groups (the agent queue's "scope" filter too)."""
    group_ids = [g.id for g in actor.groups]
    # Wrapped in coalesce so that no index on assignee or group serves this OR: SQLite would otherwise read
    # every ticket of the agent's groups since the beginning, instead of the period's range on created_at.
    mine = func.coalesce(source.assignee_id, 0) == actor.id
    return or_(mine, func.coalesce(source.group_id, 0).in_(group_ids)) if group_ids else mine


def filter_conditions(filters: ReportFilters, source: type = Ticket) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.group is not None:
        conditions.append(source.group_id == filters.group)
    if filters.agent is not None:
        conditions.append(source.assignee_id == filters.agent)
    if filters.channel:
        conditions.append(source.channel == filters.channel)
    if filters.category is not None:
        conditions.append(source.category_id == filters.category)
    if filters.language:
        conditions.append(source.language == filters.language)
    if filters.priority:
        conditions.append(source.priority == filters.priority)
    return conditions


def where_for(actor: User, filters: ReportFilters, source: type = Ticket) -> list[ColumnElement[bool]]:
    return [*scope_conditions(actor, source), *filter_conditions(filters, source)]


def filter_choices(session: Session, actor: User) -> dict[str, list]:
    """The groups and agents an actor may filter by (their own groups and their members, or all for admins),
    and the categories."""
    groups = list(session.scalars(select(Group).order_by(Group.name))) if actor.is_admin else sorted(
        actor.groups, key=lambda g: g.name)
    if actor.is_admin:
        agents = list(session.scalars(select(User).where(User.role.in_(AGENT_ROLES)).order_by(User.name)))
    else:
        people = {actor.id: actor} | {m.id: m for g in actor.groups for m in g.members if m.is_agent}
        agents = sorted(people.values(), key=lambda u: u.name)
    categories = list(session.scalars(select(Category).order_by(Category.position, Category.name_en)))
    return {"groups": [(g.id, g.name) for g in groups], "agents": [(u.id, u.name) for u in agents],
            "categories": categories}


# ---- Now -------------------------------------------------------------------------------------------------


@dataclass
class Snapshot:
    by_status: dict[str, int]
    by_group: list[tuple[int | None, str | None, int]]  # (group id, name, count); None: no group
    unassigned: int
    breached: int
    due_soon: int
    at_risk: list[Ticket]  # breached or due within the hour, the most urgent first
    oldest: list[Ticket]

    @property
    def backlog(self) -> int:
        return sum(self.by_status.values())


def snapshot(session: Session, *, actor: User, filters: ReportFilters, now: datetime) -> Snapshot:
    """The open backlog as it stands: every count is a COUNT on the tickets' status indexes."""
    where = [Ticket.status.in_(OPEN_STATUSES), *where_for(actor, filters)]
    parts = [[Ticket.status.in_(OPEN_STATUSES), *part, *filter_conditions(filters)] for part in _backlog_scope(actor)]

    def count(*conditions: ColumnElement[bool]) -> int:
        return sum(session.scalar(select(func.count()).select_from(Ticket).where(*part, *conditions)) or 0
                   for part in parts)

    def counts(*columns, conditions: tuple[ColumnElement[bool], ...] = ()) -> Counter:
        total: Counter = Counter()
        for part in parts:
            total.update({tuple(key): n for *key, n in session.execute(
                select(*columns, func.count()).where(*part, *conditions).group_by(*columns))})
        return total

    # By group and status in one read of the (group, status) index: "in a group" is spelt as a subquery, which
    # SQLite answers from that index alone, where a plain GROUP BY reads every open ticket's row.
    grouped = counts(Ticket.group_id, Ticket.status, conditions=(Ticket.group_id.in_(select(Group.id)),))
    ungrouped = counts(Ticket.status, conditions=(Ticket.group_id.is_(None),))
    by_status = dict.fromkeys(OPEN_STATUSES, 0)
    per_group: Counter = Counter()
    for (group_id, status), n in grouped.items():
        by_status[status] += n
        per_group[group_id] += n
    for (status,), n in ungrouped.items():
        by_status[status] += n
        per_group[None] += n
    group_counts = list(per_group.items())
    names = dict(session.execute(select(Group.id, Group.name).where(
        Group.id.in_([g for g, _ in group_counts if g is not None]))).all())
    by_group = sorted(((g, names.get(g) if g else None, n) for g, n in group_counts), key=lambda r: (-r[2], r[1] or ""))

    at_risk = list(session.scalars(select(Ticket).where(*where, Ticket.sla_due_at <= now + DUE_SOON)
                                   .order_by(Ticket.sla_due_at, Ticket.id).limit(LIST_LIMIT)))
    oldest = list(session.scalars(select(Ticket).where(*where).order_by(Ticket.created_at, Ticket.id).limit(5)))
    return Snapshot(by_status=by_status, by_group=by_group, unassigned=count(Ticket.assignee_id.is_(None)),
                    breached=count(Ticket.sla_due_at <= now),
                    due_soon=count(Ticket.sla_due_at > now, Ticket.sla_due_at <= now + DUE_SOON),
                    at_risk=at_risk, oldest=oldest)


def _backlog_scope(actor: User) -> list[list[ColumnElement[bool]]]:
    """The same tickets as `scope_conditions`, as disjoint parts that the (group, status) and (assignee, status)
    indexes each answer: an agent's groups, then their own tickets outside those groups. Counted apart and
    added up, instead of one OR that reads every open ticket's row."""
    if actor.is_admin:
        return [[]]
    group_ids = [g.id for g in actor.groups]
    mine = Ticket.assignee_id == actor.id
    if not group_ids:
        return [[mine]]
    return [[Ticket.group_id.in_(group_ids)],
            [mine, or_(Ticket.group_id.not_in(group_ids), Ticket.group_id.is_(None))]]


# ---- Over a period ---------------------------------------------------------------------------------------


def median(values: list[float]) -> float | None:
    """The middle value; the mean of the two middle values for an even count."""
    if not values:
        return None
    ordered, middle = sorted(values), len(values) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def percentile(values: list[float], share: float) -> float | None:
    """Nearest rank: the smallest value with at least `share` of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)), 1) - 1]


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None
