"""What a customer sees of their tickets: their list (filters, search, unread marks) and the public side of
one conversation. Private notes, internal events and on_hold never reach these results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from portal.models import Message, Ticket, TicketEvent, TicketRead, User
from portal.pagination import PageNumbers
from portal.status import customer_status

PER_PAGE = 20
MAX_SEARCH = 200
# The customer's words for statuses, and which statuses each one covers.
CUSTOMER_FILTERS: dict[str, tuple[str, ...]] = {
    "open": ("new", "open", "on_hold"),
    "pending": ("pending",),
    "solved": ("solved",),
    "closed": ("closed",),
}


@dataclass(frozen=True)
class TicketRow:
    ticket: Ticket
    unread: bool  # an agent replied after the customer last opened it


@dataclass(frozen=True)
class TicketPage(PageNumbers):
    rows: list[TicketRow]
    total: int
    page: int
    per_page: int


@dataclass(frozen=True)
class TimelineItem:
    """One entry of the public conversation: a message, or a status change in the customer's words."""

    at: datetime
    message: Message | None = None
    status: str | None = None  # the new customer-facing status (a label id) of a status change
    event_kind: str | None = None
    by_requester: bool = False


def list_for_customer(
    session: Session, actor: User, *, status: str | None = None, search: str = "", page: int = 1,
    per_page: int = PER_PAGE,
) -> TicketPage:
    """The customer's own tickets, newest activity first, optionally one customer status at a time and
    matching words in their subjects or in the public messages."""
    query = select(Ticket).where(Ticket.requester_id == actor.id)
    if status in CUSTOMER_FILTERS:
        query = query.where(Ticket.status.in_(CUSTOMER_FILTERS[status]))
    words = (search or "").strip()[:MAX_SEARCH]
    if words:
        pattern = f"%{_escape_like(words.lower())}%"
        in_messages = exists().where(Message.ticket_id == Ticket.id, Message.public,
                                     func.lower(Message.body).like(pattern, escape="\\"))
        query = query.where(or_(func.lower(Ticket.subject).like(pattern, escape="\\"), Ticket.ref == words.upper(),
                                in_messages))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = max(1, page)
    unread = _unread_clause(actor).label("unread")
    rows = session.execute(
        query.add_columns(unread).options(selectinload(Ticket.assignee))
        .order_by(Ticket.updated_at.desc(), Ticket.id.desc()).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return TicketPage([TicketRow(ticket, bool(flag)) for ticket, flag in rows], total, page, per_page)


def _unread_clause(actor: User):
    """A public message by someone other than the requester, newer than the requester's last visit."""
    seen = (select(TicketRead.seen_at)
            .where(TicketRead.ticket_id == Ticket.id, TicketRead.user_id == actor.id).scalar_subquery())
    return exists().where(
        Message.ticket_id == Ticket.id, Message.public,
        or_(Message.author_id.is_(None), Message.author_id != Ticket.requester_id),
        or_(seen.is_(None), Message.created_at > seen),
    )


def has_unread(session: Session, ticket: Ticket, actor: User) -> bool:
    return bool(session.scalar(select(_unread_clause(actor)).where(Ticket.id == ticket.id)))


def mark_seen(session: Session, ticket: Ticket, actor: User, *, now: datetime) -> None:
    """The requester opened the ticket: its agent replies so far are read."""
    if actor.id != ticket.requester_id:
        return
    read = session.get(TicketRead, (ticket.id, actor.id))
    if read is None:
        session.add(TicketRead(ticket_id=ticket.id, user_id=actor.id, seen_at=now))
    elif read.seen_at < now:
        read.seen_at = now


def public_timeline(session: Session, ticket: Ticket) -> list[TimelineItem]:
    """The conversation as the customer sees it: public messages with their attachments, and the status
    changes they would notice (on hold shows as open, so open → on hold is not a change to them)."""
    messages = session.scalars(
        select(Message).where(Message.ticket_id == ticket.id, Message.public)
        .options(selectinload(Message.attachments), selectinload(Message.author)).order_by(Message.id)
    )
    items = [TimelineItem(at=m.created_at, message=m, by_requester=m.author_id == ticket.requester_id)
             for m in messages]
    events = session.scalars(
        select(TicketEvent).where(and_(TicketEvent.ticket_id == ticket.id, TicketEvent.field == "status"))
        .order_by(TicketEvent.id)
    )
    for event in events:
        old, new = customer_status(event.old_value or "new"), customer_status(event.new_value or "new")
        if old != new:
            items.append(TimelineItem(at=event.created_at, status=new, event_kind=event.kind,
                                      by_requester=event.actor_id == ticket.requester_id))
    # A status change made with a message (reopen, reply and solve) reads best right after that message.
    return sorted(items, key=lambda item: (item.at, item.message is None))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
