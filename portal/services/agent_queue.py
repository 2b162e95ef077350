"""The agents' queues: named views, filters, sort orders, keyset pages and live counts.

Every page is one indexed range scan: the view's conditions match the leading columns of an index on
tickets (status/updated, assignee/status/updated, group/status/updated, sla_due_at), and the page goes on
from the last row seen, `(sort key, id)` past the cursor, never with OFFSET. Counts are one COUNT per view
on the same indexes.

Besides the ticket's own fields, the filters can name what the reports count (docs/metrics.md): created,
solved or rated on given days, the SLA state now, and a measurement of the reports' rollup (`ticket_metrics`,
read per row by its key), so that each figure of `/agent/reports` links to exactly the tickets it counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, exists, func, or_, select, tuple_, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from portal.errors import N_, Invalid
from portal.integers import is_id, whole_number
from portal.models import (
    CHANNELS,
    PRIORITIES,
    Group,
    Message,
    SatisfactionRating,
    SearchLog,
    Ticket,
    TicketTag,
    User,
)
from portal.models.reports import TicketMetric
from portal.services.content_gaps import SAW_SUGGESTIONS_WINDOW
from portal.services.postpone import not_postponed, postponed
from portal.services.reports import DUE_SOON, day_start, mine_or_my_groups

if TYPE_CHECKING:
    from sqlalchemy.orm import Session
    from sqlalchemy.sql import ColumnElement

    from portal.services.desk_lists import Named

OPEN_STATUSES = ("new", "open", "pending", "on_hold")
ALL_STATUSES = (*OPEN_STATUSES, "solved", "closed")
SOLVED_STATUSES = ("solved", "closed")  # the statuses that have a solved_at (status._stamp)
RECENT_SOLVED = timedelta(days=7)
PAGE_SIZE = 25  # a screenful; keyset pages make the next one as cheap
SORTS = ("sla", "priority", "updated", "age", "solved")
PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
VIEW_LABELS = {
    "unassigned": N_("Unassigned"),
    "mine": N_("Mine"),
    "pending": N_("Pending"),
    "on_hold": N_("On hold"),
    "postponed": N_("Postponed"),
    "solved": N_("Recently solved"),
    "open": N_("All open"),
    "all": N_("All tickets"),
}
# Not counted in the sidebar: its count would read every ticket's index entry on each refresh.
UNCOUNTED_VIEWS = frozenset({"all"})
RATINGS = ("good", "bad")
SLA_STATES = ("breached", "due_soon")
DATE_FILTERS = ("created_from", "created_to", "solved_from", "solved_to", "rated_from", "rated_to")


def _measures(now: datetime) -> dict[str, ColumnElement[bool]]:
    """The reports' per-ticket measurements (docs/metrics.md), as conditions on the rollup row."""
    return {
        "replied": TicketMetric.first_reply_minutes.is_not(None),
        "first_reply_met": TicketMetric.first_reply_met.is_(True),
        # answered with a target, or unanswered and already late: what the first-reply compliance counts
        "first_reply_measured": or_(TicketMetric.first_reply_met.is_not(None),
                                    TicketMetric.first_reply_late_after < now),
        "resolution_met": TicketMetric.resolution_met.is_(True),
        "resolution_measured": TicketMetric.resolution_met.is_not(None),
        "reopened": TicketMetric.reopened.is_(True),
        "one_touch": TicketMetric.agent_replies == 1,
    }


MEASURE_LABELS = {
    "replied": N_("Got a first reply"),
    "first_reply_met": N_("First reply within target"),
    "first_reply_measured": N_("First-reply target measured"),
    "resolution_met": N_("Resolution within target"),
    "resolution_measured": N_("Resolution target measured"),
    "reopened": N_("Reopened"),
    "one_touch": N_("Exactly one agent reply"),
    "after_suggestions": N_("Filed after seeing suggestions"),
}


@dataclass(frozen=True)
class View:
    key: str  # "mine", "group:3" ...
    label: str  # a message id, or a group's own name
    translate: bool = True

    @property
    def counted(self) -> bool:
        return self.key not in UNCOUNTED_VIEWS


@dataclass
class Filters:
    status: str = ""
    priority: str = ""
    group: str = ""  # "", "none" or a group id
    assignee: str = ""  # "", "me", "none" or a user id
    tag: str = ""
    channel: str = ""
    language: str = ""
    text: str = ""
    category: int | None = None
    scope: str = ""  # "mine": assigned to me or in one of my groups (what the reports show an agent)
    # Whole UTC days, both ends included, as the reports' periods.
    created_from: date | None = None
    created_to: date | None = None
    solved_from: date | None = None
    solved_to: date | None = None
    rated_from: date | None = None  # the satisfaction rating's latest change
    rated_to: date | None = None
    rating: str = ""  # "good" or "bad"
    sla: str = ""  # "breached" or "due_soon": the running target now
    measure: str = ""  # a key of MEASURE_LABELS

    def active(self) -> bool:
        return any(getattr(self, f.name) not in (None, "") for f in fields(self))

    @property
    def solved_only(self) -> bool:
        return self.solved_from is not None or self.solved_to is not None


def parse_filters(args: Mapping[str, str], *, today: date) -> Filters:
    """The filters of a query string. A choice that is not offered is ignored, as the queue always did (an old
    bookmark still opens); a date that cannot be read, or a range that ends before it starts, raises Invalid
    naming the field."""
    group, category = args.get("group", "").strip(), args.get("category", "").strip()
    days = {name: _day(args, name, today) for name in DATE_FILTERS}
    for first, last in zip(DATE_FILTERS[::2], DATE_FILTERS[1::2], strict=True):
        if days[first] and days[last] and days[last] < days[first]:
            raise Invalid(N_("That date range ends before it starts: swap the two dates."), field=last)
    return Filters(
        status=args.get("status", ""), priority=args.get("priority", ""),
        group=group if group == "none" or is_id(group) else "", assignee=args.get("assignee", ""),
        tag=args.get("tag", "").strip(), channel=args.get("channel", ""), language=args.get("language", ""),
        text=args.get("q", ""), category=whole_number(category, minimum=1),
        scope="mine" if args.get("scope") == "mine" else "",
        rating=_choice(args, "rating", RATINGS), sla=_choice(args, "sla", SLA_STATES),
        measure=_choice(args, "measure", MEASURE_LABELS), **days,
    )


def _choice(args: Mapping[str, str], name: str, offered) -> str:
    value = args.get(name, "")
    return value if value in offered else ""


def _day(args: Mapping[str, str], name: str, today: date) -> date | None:
    text = args.get(name, "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid(N_("Enter dates as YYYY-MM-DD, for example %(example)s."), field=name,
                      example=today.isoformat()) from None


def _day_range(column, first: date | None, last: date | None) -> list[ColumnElement[bool]]:
    conditions = [column >= day_start(first)] if first else []
    if last and last < date.max:
        conditions.append(column < day_start(last + timedelta(days=1)))
    return conditions


@dataclass(frozen=True, slots=True)
class QueueRow:
    """What a queue row shows of a ticket. A page reads these as plain columns in one joined query: building
    25 ORM tickets with their people, group and tags cost more than the rest of the page's queries together."""

    id: int
    ref: str
    subject: str
    status: str
    priority: str
    version: int
    created_at: datetime
    updated_at: datetime
    solved_at: datetime | None
    sla_due_at: datetime | None
    sla_breached_at: datetime | None
    assignee_id: int | None
    postponed_until: datetime | None  # shown in the "Postponed" queue: when it comes back
    requester_name: str | None
    assignee_name: str | None
    group_name: str | None
    group_guided: bool | None  # the group hands out its tickets with "Next ticket": no Take button for agents
    tags: tuple[str, ...]
    sla: str | None  # sla_state() when the page was read

    @classmethod
    def of(cls, ticket: Ticket, *, now: datetime) -> QueueRow:
        """The row of a ticket already loaded (a row answered alone after a change)."""
        return cls(
            ticket.id, ticket.ref, ticket.subject, ticket.status, ticket.priority, ticket.version, ticket.created_at,
            ticket.updated_at, ticket.solved_at, ticket.sla_due_at, ticket.sla_breached_at, ticket.assignee_id,
            ticket.postponed_until, ticket.requester.name if ticket.requester else None,
            ticket.assignee.name if ticket.assignee else None,
            ticket.group.name if ticket.group else None, ticket.group.guided if ticket.group else None,
            tuple(ticket.tag_names), sla_state(ticket, now=now))


_TICKETS, _TAGS, _GROUPS = Ticket.__table__, TicketTag.__table__, Group.__table__
_REQUESTERS, _ASSIGNEES = User.__table__.alias("requesters"), User.__table__.alias("assignees")
_TAG_SEPARATOR = "\x1f"  # no tag can hold it (agent_desk.TAG_RE)
# Plain table columns, run on the connection: the rows need none of the ORM's work.
_ROWS = (select(
    *(_TICKETS.c[name] for name in ("id", "ref", "subject", "status", "priority", "version", "created_at",
                                    "updated_at", "solved_at", "sla_due_at", "sla_breached_at", "assignee_id",
                                    "postponed_until")),
    _REQUESTERS.c.name, _ASSIGNEES.c.name, _GROUPS.c.name, _GROUPS.c.guided,
    select(func.aggregate_strings(_TAGS.c.tag, _TAG_SEPARATOR)).where(_TAGS.c.ticket_id == _TICKETS.c.id)
    .scalar_subquery())
    .select_from(_TICKETS.outerjoin(_REQUESTERS, _REQUESTERS.c.id == _TICKETS.c.requester_id)
                 .outerjoin(_ASSIGNEES, _ASSIGNEES.c.id == _TICKETS.c.assignee_id)
                 .outerjoin(_GROUPS, _GROUPS.c.id == _TICKETS.c.group_id)))


def _rows(session: Session, ids: list[int], *, now: datetime) -> list[QueueRow]:
    """The rows of these tickets, in this order, in one query."""
    if not ids:
        return []
    found = {}
    for row in session.connection().execute(_ROWS.where(_TICKETS.c.id.in_(ids))):
        *columns, tags = row
        found[row.id] = QueueRow(*columns, tuple(sorted(tags.split(_TAG_SEPARATOR))) if tags else (),
                                 _sla_state(row.sla_due_at, row.sla_breached_at, now=now))
    return [found[i] for i in ids if i in found]


@dataclass
class Page:
    tickets: list[QueueRow]
    next_cursor: str | None
    view: str
    sort: str
    filters: Filters = field(default_factory=Filters)


def views_for(agent: User, groups: Iterable[Group | Named] | None = None) -> list[View]:
    """The agent's views: the fixed ones, with one per group they belong to after "Mine". `groups`: the agent's
    groups when already known (desk_lists), else read from the agent."""
    mine = sorted(agent.groups if groups is None else groups, key=lambda g: g.name)
    fixed = [View(key, label) for key, label in VIEW_LABELS.items()]
    return fixed[:2] + [View(f"group:{g.id}", g.name, translate=False) for g in mine] + fixed[2:]


def view_spec(view: str, agent: User, *, now: datetime) -> tuple[tuple[str, ...], list[ColumnElement[bool]]]:
    """The statuses a view holds and its other conditions. Each status is read on its own (an index range
    in the order of the page), so no view sorts all its tickets. The working views leave out the postponed
    tickets (services.postpone), which "Postponed" lists; "All tickets" has everything."""
    if view == "postponed":
        return OPEN_STATUSES, [postponed(now)]
    if view == "solved":
        return ("solved",), [Ticket.updated_at >= now - RECENT_SOLVED]
    if view == "all":
        return ALL_STATUSES, []
    statuses, conditions = _working_view(view, agent)
    return statuses, [*conditions, not_postponed(now)]


def _working_view(view: str, agent: User) -> tuple[tuple[str, ...], list[ColumnElement[bool]]]:
    if view == "unassigned":
        return OPEN_STATUSES, [Ticket.assignee_id.is_(None)]
    if view == "mine":
        return OPEN_STATUSES, [Ticket.assignee_id == agent.id]
    if view == "pending":
        return ("pending",), []
    if view == "on_hold":
        return ("on_hold",), []
    if view == "open":
        return OPEN_STATUSES, []
    if view.startswith("group:") and is_id(view[6:]):
        return OPEN_STATUSES, [Ticket.group_id == int(view[6:])]
    raise Invalid(N_("Choose one of the queues offered."), field="view")


def view_conditions(view: str, agent: User, *, now: datetime) -> list[ColumnElement[bool]]:
    statuses, conditions = view_spec(view, agent, now=now)
    return [Ticket.status.in_(statuses), *conditions]


def filter_conditions(filters: Filters, agent: User, *, now: datetime) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []  # the status filter narrows the view's statuses instead
    if filters.priority in PRIORITIES:
        conditions.append(Ticket.priority == filters.priority)
    if filters.group == "none":
        conditions.append(Ticket.group_id.is_(None))
    elif is_id(filters.group):
        conditions.append(Ticket.group_id == int(filters.group))
    if filters.category is not None:
        conditions.append(Ticket.category_id == filters.category)
    if filters.scope == "mine":
        conditions.append(mine_or_my_groups(agent))
    if filters.assignee == "me":
        conditions.append(Ticket.assignee_id == agent.id)
    elif filters.assignee == "none":
        conditions.append(Ticket.assignee_id.is_(None))
    elif is_id(filters.assignee):
        conditions.append(Ticket.assignee_id == int(filters.assignee))
    if filters.tag:
        conditions.append(exists().where(TicketTag.ticket_id == Ticket.id, TicketTag.tag == filters.tag.lower()))
    if filters.channel in CHANNELS:
        conditions.append(Ticket.channel == filters.channel)
    if filters.language:
        conditions.append(Ticket.language == filters.language)
    text = " ".join(filters.text.split())[:200]
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(or_(
            Ticket.subject.ilike(pattern, escape="\\"),
            exists().where(Message.ticket_id == Ticket.id, Message.body.ilike(pattern, escape="\\")),
        ))
    return conditions + _report_conditions(filters, now=now)


def _report_conditions(filters: Filters, *, now: datetime) -> list[ColumnElement[bool]]:
    """The filters that reproduce the reports' figures, each with the figure's own definition: the same UTC
    days, the same SLA moments, the same rollup columns. The rollup row is looked up by its key for each
    ticket the date range gives. Ratings are the other way round: the period's ratings (their own index on
    the rating time) give the tickets, so a list of rated tickets reads the ratings of its days, not every
    solved ticket."""
    conditions = [*_day_range(Ticket.created_at, filters.created_from, filters.created_to),
                  *_day_range(Ticket.solved_at, filters.solved_from, filters.solved_to)]
    if filters.rated_from or filters.rated_to or filters.rating:
        conditions.append(Ticket.id.in_(select(SatisfactionRating.ticket_id).where(
            *_day_range(SatisfactionRating.updated_at, filters.rated_from, filters.rated_to),
            *((SatisfactionRating.rating == filters.rating,) if filters.rating else ()))))
    if filters.sla == "breached":
        conditions.append(Ticket.sla_due_at <= now)
    elif filters.sla == "due_soon":
        conditions += [Ticket.sla_due_at > now, Ticket.sla_due_at <= now + DUE_SOON]
    if filters.measure == "after_suggestions":
        conditions.append(_filed_after_suggestions())
    elif filters.measure in MEASURE_LABELS:
        conditions.append(exists().where(TicketMetric.ticket_id == Ticket.id, _measures(now)[filters.measure]))
    return conditions


@dataclass(frozen=True)
class Segment:
    """A run of the sort order that one index serves: rows matching `where`, ordered by `column` (or by id
    alone when `column` is None). A sort is one or more segments read in turn, so the database never sorts:
    "sla" is the tickets with a due time by due time, then those without; "priority" is urgent, high, normal,
    low, each by id; "solved" the solved and closed tickets, latest solution first, then the others.

    `lacks` names the column that the segment's tickets have empty: a filter on that column needs no read of
    it. `statuses`, when set, are the only statuses that can have rows in it. `own_index`: the column has an
    index of its own (solved_at), which gives the order; the status is then checked on each row, or SQLite,
    which knows nothing of how many tickets a status holds, would rather read the status and sort it."""

    where: tuple
    column: object | None
    descending: bool = False
    lacks: str = ""
    statuses: tuple[str, ...] | None = None
    own_index: bool = False


def _filed_after_suggestions() -> ColumnElement[bool]:
    """The self-service figure's tickets (report_selfservice): the requester searched and got results in the
    window before filing."""
    return exists().where(
        SearchLog.user_id == Ticket.requester_id, SearchLog.result_count > 0,
        SearchLog.created_at <= Ticket.created_at,
        SearchLog.created_at >= _SecondsBefore(Ticket.created_at, int(SAW_SUGGESTIONS_WINDOW.total_seconds())))


class _SecondsBefore(FunctionElement):
    """A moment some seconds before a datetime column, in each database's own date arithmetic."""

    inherit_cache = True
    type = DateTime()

    def __init__(self, column, seconds: int) -> None:
        super().__init__(column)
        self.seconds = int(seconds)


@compiles(_SecondsBefore)
def _compile_seconds_before(element, compiler, **kw) -> str:
    return f"({compiler.process(element.clauses, **kw)} - interval '{element.seconds} seconds')"


@compiles(_SecondsBefore, "sqlite")
def _compile_seconds_before_sqlite(element, compiler, **kw) -> str:
    # the same text form as SQLAlchemy stores, to the millisecond
    return f"strftime('%Y-%m-%d %H:%M:%f', {compiler.process(element.clauses, **kw)}, '-{element.seconds} seconds')"


class _Unindexed(FunctionElement):
    """A column that the database must not pick an index by: SQLite's documented unary `+`; as is elsewhere."""

    inherit_cache = True

    def __init__(self, column) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(_Unindexed)
def _compile_unindexed(element, compiler, **kw) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(_Unindexed, "sqlite")
def _compile_unindexed_sqlite(element, compiler, **kw) -> str:
    return "+" + compiler.process(element.clauses, **kw)


def _segments(sort: str) -> list[Segment]:
    if sort == "sla":
        return [Segment((Ticket.sla_due_at.is_not(None),), Ticket.sla_due_at),
                Segment((Ticket.sla_due_at.is_(None),), None, lacks="sla_due_at")]
    if sort == "priority":
        ranked = sorted(PRIORITY_RANK, key=PRIORITY_RANK.__getitem__)
        return [Segment((Ticket.priority == priority,), None) for priority in ranked]
    if sort == "age":
        return [Segment((), Ticket.created_at)]
    if sort == "solved":  # the solution index (solved_at, id): solved_at is set exactly while solved or closed
        return [Segment((Ticket.solved_at.is_not(None),), Ticket.solved_at, descending=True, statuses=SOLVED_STATUSES,
                        own_index=True),
                Segment((Ticket.solved_at.is_(None),), None, lacks="solved_at", statuses=OPEN_STATUSES)]
    return [Segment((), Ticket.updated_at, descending=True)]


def _key_value(ticket: Ticket | QueueRow, sort: str) -> tuple[int, datetime | None]:
    """Where a ticket sits in the sort: (segment number, its value in that segment)."""
    if sort == "sla":
        return (0, ticket.sla_due_at) if ticket.sla_due_at is not None else (1, None)
    if sort == "priority":
        return PRIORITY_RANK.get(ticket.priority, len(PRIORITY_RANK)), None
    if sort == "age":
        return 0, ticket.created_at
    if sort == "solved":
        return (0, ticket.solved_at) if ticket.solved_at is not None else (1, None)
    return 0, ticket.updated_at


def encode_cursor(ticket: Ticket | QueueRow, sort: str) -> str:
    segment, value = _key_value(ticket, sort)
    return f"{segment}~{value.isoformat() if value is not None else ''}~{ticket.id}"


def _decode_cursor(cursor: str) -> tuple[int, datetime | None, int] | None:
    try:
        segment, text, ident = cursor.split("~")
        number = whole_number(ident, minimum=1)
        if number is None:
            return None
        return int(segment), datetime.fromisoformat(text) if text else None, number
    except (ValueError, TypeError):
        return None


def _past(segment: Segment, number: int, cursor: tuple[int, datetime | None, int] | None):
    """The condition for rows of `segment` after the cursor; None when the whole segment comes after it,
    False when it was already read."""
    if cursor is None or number > cursor[0]:
        return None
    if number < cursor[0]:
        return False
    _seg, value, ident = cursor
    if segment.column is None or value is None:
        return Ticket.id > ident
    if segment.descending:
        return tuple_(segment.column, Ticket.id) < tuple_(value, ident)
    return tuple_(segment.column, Ticket.id) > tuple_(value, ident)


def queue_page(
    session: Session, agent: User, *, view: str = "open", sort: str = "updated", filters: Filters | None = None,
    cursor: str | None = None, now: datetime, page_size: int | None = None,
) -> Page:
    """One page of a queue, continuing after `cursor` (from the previous page's `next_cursor`).

    Each status of the view, and each segment of the sort, is read on an index that starts with the view's
    columns, the status and the sort column (assignee/status/…, group/status/…, status/…), limited to a page
    past the cursor; a segment's statuses go in one UNION ALL statement and the few rows found are merged.
    Then the page's rows are read with their people, group and tags in one query."""
    filters = filters or Filters()
    page_size = page_size or PAGE_SIZE
    sort = sort if sort in SORTS else "updated"
    statuses, conditions = view_spec(view, agent, now=now)
    if filters.status:
        statuses = tuple(s for s in statuses if s == filters.status) or (
            (filters.status,) if view in ("open",) and filters.status in ("solved", "closed") else ())
    if filters.solved_only:  # only solved and closed tickets have a solution time: the others need no read
        statuses = tuple(s for s in statuses if s in SOLVED_STATUSES)
    conditions = [*conditions, *filter_conditions(filters, agent, now=now)]
    required = {"sla_due_at"} if filters.sla else set()
    if filters.solved_only:
        required.add("solved_at")
    decoded = _decode_cursor(cursor) if cursor else None
    found: list[tuple[int, object, int]] = []
    for number, segment in enumerate(_segments(sort)):
        past = _past(segment, number, decoded)
        if past is False or segment.lacks in required:
            continue
        if len(found) > page_size:  # earlier segments already fill the page
            break
        columns = (segment.column, Ticket.id) if segment.column is not None else (Ticket.id,)
        order = [c.desc() if segment.descending else c.asc() for c in columns]
        by_status = []
        for status in statuses if segment.statuses is None else [s for s in statuses if s in segment.statuses]:
            status_column = _Unindexed(Ticket.status) if segment.own_index else Ticket.status
            by_status.append(select(*columns).where(status_column == status, *segment.where, *conditions,
                                                    *(() if past is None else (past,)))
                             .order_by(*order).limit(page_size + 1))
        if not by_status:
            continue
        # one statement for the segment: each status still reads its own index range, in the page's order
        query = by_status[0] if len(by_status) == 1 else union_all(
            *(select(*part.subquery().c) for part in by_status))
        read = [(number, row[0] if segment.column is not None else 0, row[-1]) for row in session.execute(query)]
        found += sorted(read, reverse=segment.descending)  # one segment's statuses merged, in its order
    found = found[:page_size + 1]
    more = len(found) > page_size
    rows = _rows(session, [ident for _n, _k, ident in found[:page_size]], now=now)
    return Page(rows, encode_cursor(rows[-1], sort) if more and rows else None, view, sort, filters)


def counts(session: Session, agent: User, *, now: datetime) -> dict[str, int]:
    """How many tickets each of the agent's views holds: one indexed COUNT each."""
    result = {}
    for view in (v for v in views_for(agent) if v.counted):
        query = select(func.count()).select_from(Ticket).where(*view_conditions(view.key, agent, now=now))
        result[view.key] = session.scalar(query) or 0
    return result


def sla_state(ticket: Ticket, *, now: datetime) -> str | None:
    """"breached", "due_soon" (within an hour), "ok", or None when no SLA clock runs."""
    return _sla_state(getattr(ticket, "sla_due_at", None), getattr(ticket, "sla_breached_at", None), now=now)


def _sla_state(due: datetime | None, breached_at: datetime | None, *, now: datetime) -> str | None:
    if breached_at is not None:
        return "breached"
    if due is None:
        return None
    if due <= now:
        return "breached"
    return "due_soon" if due - now <= timedelta(hours=1) else "ok"
