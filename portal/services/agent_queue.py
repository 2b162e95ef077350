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

from sqlalchemy import case, exists, func, or_, select, tuple_
from sqlalchemy.orm import selectinload

from portal.errors import N_, Invalid
from portal.models import CHANNELS, PRIORITIES, Group, Message, Ticket, TicketTag, User

if TYPE_CHECKING:
    from sqlalchemy.orm import Session
    from sqlalchemy.sql import ColumnElement

OPEN_STATUSES = ("new", "open", "pending", "on_hold")
RECENT_SOLVED = timedelta(days=7)
PAGE_SIZE = 50
SORTS = ("sla", "priority", "updated", "age")
FAR_FUTURE = datetime(9999, 12, 31)
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


def _sort_key(sort: str):
    """(expression, descending) for the sort order; ties are broken by id in the same direction."""
    if sort == "sla":
        return func.coalesce(Ticket.sla_due_at, FAR_FUTURE), False
    if sort == "priority":
        return case(PRIORITY_RANK, value=Ticket.priority, else_=9), False
    if sort == "age":
        return Ticket.created_at, False
    return Ticket.updated_at, True


def _key_value(ticket: Ticket, sort: str) -> object:
    if sort == "sla":
        return ticket.sla_due_at or FAR_FUTURE
    if sort == "priority":
        return PRIORITY_RANK.get(ticket.priority, 9)
    if sort == "age":
        return ticket.created_at
    return ticket.updated_at


def encode_cursor(ticket: Ticket, sort: str) -> str:
    value = _key_value(ticket, sort)
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return f"{text}~{ticket.id}"


def _decode_cursor(cursor: str, sort: str) -> tuple[object, int] | None:
    try:
        text, ident = cursor.rsplit("~", 1)
        value: object = int(text) if sort == "priority" else datetime.fromisoformat(text)
        return value, int(ident)
    except (ValueError, TypeError):
        return None


def queue_page(
    session: Session, agent: User, *, view: str = "open", sort: str = "updated", filters: Filters | None = None,
    cursor: str | None = None, now: datetime, page_size: int | None = None,
) -> Page:
    """One page of a queue, continuing after `cursor` (from the previous page's `next_cursor`).

    Each of the view's statuses is one query on an index that starts with the view's columns and the status
    (assignee/status/updated, group/status/updated, status/updated), limited to a page past the cursor; the
    few rows found are merged. Then the page's tickets are loaded with their people and tags in a few
    IN queries (no N+1)."""
    filters = filters or Filters()
    page_size = page_size or PAGE_SIZE
    sort = sort if sort in SORTS else "updated"
    key, descending = _sort_key(sort)
    statuses, conditions = view_spec(view, agent, now=now)
    if filters.status:
        statuses = tuple(s for s in statuses if s == filters.status) or (
            (filters.status,) if view in ("open",) and filters.status in ("solved", "closed") else ())
    conditions = [*conditions, *filter_conditions(filters, agent)]
    decoded = _decode_cursor(cursor, sort) if cursor else None
    if decoded is not None:
        past = tuple_(key, Ticket.id) < tuple_(*decoded) if descending else tuple_(key, Ticket.id) > tuple_(*decoded)
        conditions.append(past)
    order = (key.desc(), Ticket.id.desc()) if descending else (key.asc(), Ticket.id.asc())
    found: list[tuple[object, int]] = []
    for status in statuses:
        query = (select(key.label("k"), Ticket.id).where(Ticket.status == status, *conditions)
                 .order_by(*order).limit(page_size + 1))
        found += [(row.k, row.id) for row in session.execute(query)]
    found.sort(reverse=descending)
    found = found[:page_size + 1]
    more = len(found) > page_size
    ids = [ident for _k, ident in found[:page_size]]
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
