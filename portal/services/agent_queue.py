"""The agents' queues: named views, filters, sort orders, keyset pages and live counts.

Every page is one indexed range scan: the view's conditions match the leading columns of an index on
tickets (status/updated, assignee/status/updated, group/status/updated, sla_due_at), and the page goes on
from the last row seen, `(sort key, id)` past the cursor, never with OFFSET. Counts are one COUNT per view
on the same indexes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import exists, func, or_, select, tuple_
from sqlalchemy.orm import selectinload

from portal.errors import N_, Invalid
from portal.models import CHANNELS, PRIORITIES, Group, Message, Ticket, TicketTag, User

if TYPE_CHECKING:
    from sqlalchemy.orm import Session
    from sqlalchemy.sql import ColumnElement

OPEN_STATUSES = ("new", "open", "pending", "on_hold")
RECENT_SOLVED = timedelta(days=7)
PAGE_SIZE = 25  # a screenful; keyset pages make the next one as cheap
SORTS = ("sla", "priority", "updated", "age")
PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
VIEW_LABELS = {
    "unassigned": N_("Unassigned"),
    "mine": N_("Mine"),
    "pending": N_("Pending"),
    "on_hold": N_("On hold"),
    "solved": N_("Recently solved"),
    "open": N_("All open"),
}


@dataclass(frozen=True)
class View:
    key: str  # "mine", "group:3" ...
    label: str  # a message id, or a group's own name
    translate: bool = True


@dataclass
class Filters:
    status: str = ""
    priority: str = ""
    group: int | None = None
    assignee: str = ""  # "", "me", "none" or a user id
    tag: str = ""
    channel: str = ""
    language: str = ""
    text: str = ""

    def active(self) -> bool:
        return any((self.status, self.priority, self.group, self.assignee, self.tag, self.channel, self.language,
                    self.text))


@dataclass
class Page:
    tickets: list[Ticket]
    next_cursor: str | None
    view: str
    sort: str
    filters: Filters = field(default_factory=Filters)


def views_for(agent: User) -> list[View]:
    """The agent's views: the fixed ones, with one per group they belong to after "Mine"."""
    fixed = [View(key, label) for key, label in VIEW_LABELS.items()]
    groups = [View(f"group:{g.id}", g.name, translate=False) for g in sorted(agent.groups, key=lambda g: g.name)]
    return fixed[:2] + groups + fixed[2:]


def view_spec(view: str, agent: User, *, now: datetime) -> tuple[tuple[str, ...], list[ColumnElement[bool]]]:
    """The statuses a view holds and its other conditions. Each status is read on its own (an index range
    in the order of the page), so no view sorts all its tickets."""
    if view == "unassigned":
        return OPEN_STATUSES, [Ticket.assignee_id.is_(None)]
    if view == "mine":
        return OPEN_STATUSES, [Ticket.assignee_id == agent.id]
    if view == "pending":
        return ("pending",), []
    if view == "on_hold":
        return ("on_hold",), []
    if view == "solved":
        return ("solved",), [Ticket.updated_at >= now - RECENT_SOLVED]
    if view == "open":
        return OPEN_STATUSES, []
    if view.startswith("group:") and view[6:].isdigit():
        return OPEN_STATUSES, [Ticket.group_id == int(view[6:])]
    raise Invalid(N_("Choose one of the queues offered."), field="view")


def view_conditions(view: str, agent: User, *, now: datetime) -> list[ColumnElement[bool]]:
    statuses, conditions = view_spec(view, agent, now=now)
    return [Ticket.status.in_(statuses), *conditions]


def filter_conditions(filters: Filters, agent: User) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []  # the status filter narrows the view's statuses instead
    if filters.priority in PRIORITIES:
        conditions.append(Ticket.priority == filters.priority)
    if filters.group:
        conditions.append(Ticket.group_id == filters.group)
    if filters.assignee == "me":
        conditions.append(Ticket.assignee_id == agent.id)
    elif filters.assignee == "none":
        conditions.append(Ticket.assignee_id.is_(None))
    elif filters.assignee.isdigit():
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
    return conditions


@dataclass(frozen=True)
class Segment:
    """A run of the sort order that one index serves: rows matching `where`, ordered by `column` (or by id
    alone when `column` is None). A sort is one or more segments read in turn, so the database never sorts:
    "sla" is the tickets with a due time by due time, then those without; "priority" is urgent, high, normal,
    low, each by id."""

    where: tuple
    column: object | None
    descending: bool = False


def _segments(sort: str) -> list[Segment]:
    if sort == "sla":
        return [Segment((Ticket.sla_due_at.is_not(None),), Ticket.sla_due_at),
                Segment((Ticket.sla_due_at.is_(None),), None)]
    if sort == "priority":
        ranked = sorted(PRIORITY_RANK, key=PRIORITY_RANK.__getitem__)
        return [Segment((Ticket.priority == priority,), None) for priority in ranked]
    if sort == "age":
        return [Segment((), Ticket.created_at)]
    return [Segment((), Ticket.updated_at, descending=True)]


def _key_value(ticket: Ticket, sort: str) -> tuple[int, datetime | None]:
    """Where a ticket sits in the sort: (segment number, its value in that segment)."""
    if sort == "sla":
        return (0, ticket.sla_due_at) if ticket.sla_due_at is not None else (1, None)
    if sort == "priority":
        return PRIORITY_RANK.get(ticket.priority, len(PRIORITY_RANK)), None
    if sort == "age":
        return 0, ticket.created_at
    return 0, ticket.updated_at


def encode_cursor(ticket: Ticket, sort: str) -> str:
    segment, value = _key_value(ticket, sort)
    return f"{segment}~{value.isoformat() if value is not None else ''}~{ticket.id}"


def _decode_cursor(cursor: str) -> tuple[int, datetime | None, int] | None:
    try:
        segment, text, ident = cursor.split("~")
        return int(segment), datetime.fromisoformat(text) if text else None, int(ident)
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

    Each status of the view, and each segment of the sort, is one query on an index that starts with the
    view's columns, the status and the sort column (assignee/status/…, group/status/…, status/…), limited to
    a page past the cursor; the few rows found are merged. Then the page's tickets are loaded with their
    people and tags in a few IN queries (no N+1)."""
    filters = filters or Filters()
    page_size = page_size or PAGE_SIZE
    sort = sort if sort in SORTS else "updated"
    statuses, conditions = view_spec(view, agent, now=now)
    if filters.status:
        statuses = tuple(s for s in statuses if s == filters.status) or (
            (filters.status,) if view in ("open",) and filters.status in ("solved", "closed") else ())
    conditions = [*conditions, *filter_conditions(filters, agent)]
    decoded = _decode_cursor(cursor) if cursor else None
    segments = _segments(sort)
    descending = segments[0].descending
    found: list[tuple[int, object, int]] = []
    for number, segment in enumerate(segments):
        past = _past(segment, number, decoded)
        if past is False:
            continue
        if len(found) > page_size:  # earlier segments already fill the page
            break
        columns = (segment.column, Ticket.id) if segment.column is not None else (Ticket.id,)
        order = [c.desc() if segment.descending else c.asc() for c in columns]
        for status in statuses:
            query = (select(*columns).where(Ticket.status == status, *segment.where, *conditions,
                                            *(() if past is None else (past,)))
                     .order_by(*order).limit(page_size + 1))
            found += [(number, row[0] if segment.column is not None else 0, row[-1])
                      for row in session.execute(query)]
    found.sort(reverse=descending)
    found = found[:page_size + 1]
    more = len(found) > page_size
    ids = [ident for _n, _k, ident in found[:page_size]]
    loaded = {t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(ids)).options(
        selectinload(Ticket.requester), selectinload(Ticket.assignee), selectinload(Ticket.group),
        selectinload(Ticket.tags)))} if ids else {}
    rows = [loaded[i] for i in ids if i in loaded]
    return Page(rows, encode_cursor(rows[-1], sort) if more and rows else None, view, sort, filters)


def counts(session: Session, agent: User, *, now: datetime) -> dict[str, int]:
    """How many tickets each of the agent's views holds: one indexed COUNT each."""
    result = {}
    for view in views_for(agent):
        query = select(func.count()).select_from(Ticket).where(*view_conditions(view.key, agent, now=now))
        result[view.key] = session.scalar(query) or 0
    return result


def agents(session: Session) -> list[User]:
    return list(session.scalars(select(User).where(User.role.in_(("agent", "admin")), User.active.is_(True))
                                .order_by(User.name)))


def groups(session: Session) -> list[Group]:
    return list(session.scalars(select(Group).order_by(Group.name)))


def sla_state(ticket: Ticket, *, now: datetime) -> str | None:
    """"breached", "due_soon" (within an hour), "ok", or None when no SLA clock runs."""
    if getattr(ticket, "sla_breached_at", None) is not None:
        return "breached"
    due = getattr(ticket, "sla_due_at", None)
    if due is None:
        return None
    if due <= now:
        return "breached"
    return "due_soon" if due - now <= timedelta(hours=1) else "ok"
