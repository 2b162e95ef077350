"""What agents are told: an in-app list (with an unread count) and, for the kinds each agent chose, an e-mail
through the same outbox as the customers' mail (`Notification` rows of kind `agent_<kind>`).

`notify` is the one entry point; the helpers below decide who hears about what:
- the assignee when the customer replies, when the ticket is assigned to them, when it is reopened;
- the members of the ticket's group when a new ticket arrives unassigned;
- SLA warnings and breaches come from services.sla (kinds `sla_warning`, `sla_breached`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update

from portal.models import AGENT_NOTIFICATION_KINDS, AgentNotification, AgentNotificationPref, Notification, User

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from portal.models import Ticket

KINDS = AGENT_NOTIFICATION_KINDS
# Message ids: the web layer translates them.
KIND_LABELS = {
    "customer_reply": "The customer replied",  # i18n
    "assigned": "Assigned to you",  # i18n
    "reopened": "Reopened",  # i18n
    "new_unassigned": "New ticket in your group",  # i18n
    "sla_warning": "SLA due within an hour",  # i18n
    "sla_breached": "SLA breached",  # i18n
}
DEFAULT_EMAIL_KINDS: tuple[str, ...] = ()  # nobody is e-mailed until they opt in
LIST_LIMIT = 50


def notify(session: Session, user: User, kind: str, ticket: Ticket, *, now: datetime) -> AgentNotification | None:
    """Tell one agent that `kind` happened to `ticket`: an unread line in their list, and an e-mail when they
    opted in for this kind. An unread line for the same ticket and kind is not repeated. Customers and
    inactive accounts are never told."""
    if kind not in KINDS:
        raise ValueError(f"unknown agent notification kind {kind!r}")
    if user is None or not user.is_agent or not user.active:
        return None
    if ticket.id is None:
        session.flush()
    existing = session.scalar(select(AgentNotification).where(
        AgentNotification.user_id == user.id, AgentNotification.ticket_id == ticket.id,
        AgentNotification.kind == kind, AgentNotification.read_at.is_(None)))
    if existing is not None:
        return existing
    row = AgentNotification(user_id=user.id, ticket_id=ticket.id, kind=kind, created_at=now)
    session.add(row)
    if kind in email_kinds(session, user):
        mail = Notification(ticket=ticket, recipient_email=user.email, recipient=user, kind=f"agent_{kind}",
                            language=user.locale if user.locale in ("en", "es") else "en",
                            context={"agent": True}, status="queued", attempts=0, created_at=now)
        session.add(mail)
        session.info.setdefault("queued_notifications", []).append(mail)
    return row


def customer_replied(session: Session, ticket: Ticket, *, reopened: bool, now: datetime) -> None:
    """The requester wrote: their agent hears about it (a reopen is said as such)."""
    if ticket.assignee_id is not None:
        assignee = ticket.assignee or session.get(User, ticket.assignee_id)
        notify(session, assignee, "reopened" if reopened else "customer_reply", ticket, now=now)


def assigned(session: Session, ticket: Ticket, assignee: User | None, *, actor: User | None, now: datetime) -> None:
    """Someone else gave this ticket to `assignee` (taking a ticket yourself is not news)."""
    if assignee is not None and (actor is None or actor.id != assignee.id):
        notify(session, assignee, "assigned", ticket, now=now)


def new_unassigned(session: Session, ticket: Ticket, *, now: datetime) -> None:
    """A new ticket waits in a group with nobody on it: every member of the group hears about it."""
    if ticket.assignee_id is None and ticket.group is not None:
        for member in ticket.group.members:
            notify(session, member, "new_unassigned", ticket, now=now)


# ---- The agent's list and preferences -----------------------------------------------------------------


def unread_count(session: Session, user: User) -> int:
    return session.scalar(select(func.count()).select_from(AgentNotification).where(
        AgentNotification.user_id == user.id, AgentNotification.read_at.is_(None))) or 0


def recent(session: Session, user: User, *, limit: int = LIST_LIMIT) -> list[AgentNotification]:
    from sqlalchemy.orm import selectinload

    return list(session.scalars(
        select(AgentNotification).where(AgentNotification.user_id == user.id)
        .options(selectinload(AgentNotification.ticket))
        .order_by(AgentNotification.id.desc()).limit(limit)))


def mark_read(session: Session, user: User, *, now: datetime, ticket: Ticket | None = None) -> int:
    """Everything (or everything about one ticket) read."""
    query = update(AgentNotification).where(AgentNotification.user_id == user.id,
                                            AgentNotification.read_at.is_(None))
    if ticket is not None:
        query = query.where(AgentNotification.ticket_id == ticket.id)
    return session.execute(query.values(read_at=now).execution_options(synchronize_session=False)).rowcount


def email_kinds(session: Session, user: User) -> list[str]:
    pref = session.get(AgentNotificationPref, user.id)
    return list(pref.email_kinds) if pref is not None else list(DEFAULT_EMAIL_KINDS)


def set_email_kinds(session: Session, user: User, kinds: list[str]) -> None:
    chosen = [kind for kind in KINDS if kind in set(kinds)]
    pref = session.get(AgentNotificationPref, user.id)
    if pref is None:
        session.add(AgentNotificationPref(user_id=user.id, email_kinds=chosen))
    else:
        pref.email_kinds = chosen
