"""Customer e-mail notifications as a transactional outbox.

The functions here only INSERT `Notification` rows in the caller's transaction: when the ticket change is
rolled back, so is the mail; when it commits, the mail is owed. The web side (`portal/views/notify_dispatch.py`)
renders and sends committed rows after the request, and `flask --app app mail flush` sends whatever is left
(after an SMTP outage, say). A row is claimed with a conditional UPDATE before it is sent, so two processes
never send the same one.

The rows are also the ticket's log of who was e-mailed, when and why (`notification_log`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Row, case, func, select, update

from portal.models import Notification, User

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from portal.models import Message, Ticket

LANGUAGES = ("en", "es")
MAX_ATTEMPTS = 5
# A row left "sending" this long belongs to a process that died mid-send: it is queued again. The mail may
# then go out twice, but with the same Message-ID, which mail clients collapse.
STALE_SENDING = timedelta(minutes=15)

# The statuses the customer hears about; the others are the agents' business.
STATUS_KINDS = {"pending": "status_pending", "solved": "status_solved", "closed": "status_closed"}
KINDS = ("ticket_created", "public_reply", *STATUS_KINDS.values(), "pending_reminder")
# What the agents' log says for each kind (message ids; the web layer translates them).
KIND_LABELS = {
    "ticket_created": "Ticket received",  # i18n
    "public_reply": "Agent reply",  # i18n
    "status_pending": "Waiting for the customer",  # i18n
    "status_solved": "Solved",  # i18n
    "status_closed": "Closed",  # i18n
    "pending_reminder": "Pending reminder",  # i18n
}


def ticket_created(session: Session, ticket: Ticket, *, now: datetime) -> list[Notification]:
    """The requester (and everyone in copy) hears that we have their ticket and its reference."""
    return _queue(session, ticket, "ticket_created", {}, now=now)


def public_reply_added(session: Session, ticket: Ticket, message: Message, *, now: datetime) -> list[Notification]:
    """An agent answered in public: the customer gets the answer by e-mail. Private notes never leave the
    building, and the requester is not sent their own words."""
    if not message.public or (message.author_id is not None and message.author_id == ticket.requester_id):
        return []
    if message.id is None:
        session.flush()  # the context keeps the message's id, not its text
    carried = _carry_in_status_mail(session, ticket, message)
    if carried:
        return carried
    return _queue(session, ticket, "public_reply", {"message_id": message.id}, now=now)


def _carry_in_status_mail(session: Session, ticket: Ticket, message: Message) -> list[Notification]:
    """A reply "submitted as" pending or solved is one e-mail, not two: the status mail queued in this same
    transaction carries the reply's text."""
    rows = [row for row in session.info.get("queued_notifications", [])
            if row.ticket is ticket and row.kind in STATUS_KINDS.values() and "message_id" not in row.context]
    for row in rows:
        row.context = {**row.context, "message_id": message.id}
    return rows


def status_changed(
    session: Session, ticket: Ticket, old_status: str, new_status: str, *, actor: User | None, now: datetime
) -> list[Notification]:
    """The customer hears when the ticket waits for them (pending), has a solution (solved, with links to
    confirm or reopen and to rate it) and is closed (with the rating link)."""
    kind = STATUS_KINDS.get(new_status)
    if kind is None or old_status == new_status:
        return []
    context: dict[str, object] = {"old": old_status, "new": new_status}
    if actor is None:
        context["auto"] = True  # an automation did it, not a person
    return _queue(session, ticket, kind, context, now=now)


def pending_reminder(session: Session, ticket: Ticket, *, days: int, now: datetime) -> list[Notification]:
    """The ticket has waited `days` for the customer's answer: remind them once."""
    return _queue(session, ticket, "pending_reminder", {"days": days}, now=now)


_LOG = Notification.__table__
# What the log shows of each mail: not its rendering context (a JSON document each).
_LOG_COLUMNS = select(*(_LOG.c[name] for name in (
    "id", "kind", "recipient_email", "recipient_id", "status", "attempts", "last_error", "created_at", "sent_at",
    "message_id")))


def notification_log(session: Session, ticket: Ticket) -> list[Row]:
    """Every e-mail about this ticket, oldest first: to whom, why, when, and whether it went out."""
    return list(session.connection().execute(_LOG_COLUMNS.where(_LOG.c.ticket_id == ticket.id).order_by(_LOG.c.id)))


def record_bounce(session: Session, message_id: str, *, recipient: str | None, reason: str,
                  now: datetime) -> Notification | None:
    """The receiving server returned a mail we sent: its row in the log says so and it is not tried again.
    Copies to several people share a Message-ID, so the refusing address picks the row when it is known."""
    query = select(Notification).where(Notification.message_id == message_id)
    if recipient:
        query = query.where(func.lower(Notification.recipient_email) == recipient.lower())
    row = session.scalars(query.order_by(Notification.id.desc()).limit(1)).first()
    if row is None:
        return None
    row.status = "failed"
    row.attempts = max(row.attempts, MAX_ATTEMPTS)
    row.last_error = f"Bounced: {reason or 'returned by the receiving mail server'}"[:2000]
    return row


def recipients(session: Session, ticket: Ticket) -> list[tuple[str, User | None, str]]:
    """(address, user or None, language): the requester, then the CC addresses, each address once, all in the
    ticket's language: the one the customer wrote in or chose on the form, which the agents answer in. The
    requester's own setting only counts for a ticket without a language of ours."""
    requester = ticket.requester
    if requester is None and ticket.requester_id is not None:
        requester = session.get(User, ticket.requester_id)
    result: list[tuple[str, User | None, str]] = []
    seen: set[str] = set()
    if requester is not None and requester.email:
        result.append((requester.email, requester, _language(ticket.language, requester.locale)))
        seen.add(requester.email.lower())
    for email in _cc_addresses(session, ticket):
        if email.lower() not in seen:
            seen.add(email.lower())
            result.append((email, None, _language(ticket.language, None)))
    return result


def _queue(session: Session, ticket: Ticket, kind: str, context: dict, *, now: datetime) -> list[Notification]:
    rows = [
        Notification(ticket=ticket, recipient_email=email, recipient=user, kind=kind, language=language,
                     context=dict(context), status="queued", attempts=0, created_at=now)
        for email, user, language in recipients(session, ticket)
    ]
    session.add_all(rows)
    queued = session.info.setdefault("queued_notifications", [])
    queued.extend(rows)  # the dispatcher sends these once the caller has committed
    return rows


def _cc_addresses(session: Session, ticket: Ticket) -> list[str]:
    """The addresses the requester keeps in copy (the relationship, so CCs added in this transaction count)."""
    return [cc.email for cc in ticket.ccs if cc.email]


def _language(ticket_language: str | None, locale: str | None) -> str:
    for candidate in (ticket_language, locale):
        if candidate in LANGUAGES:
            return str(candidate)
    return LANGUAGES[0]


# ---- Delivery bookkeeping: the dispatcher's claims and outcomes, each one atomic UPDATE ----


def due_ids(session: Session, *, now: datetime, after_id: int = 0, limit: int = 100) -> list[int]:
    """Rows still owed, oldest first: queued ones, and ones whose sender died mid-send."""
    stale = now - STALE_SENDING
    query = (select(Notification.id)
             .where((Notification.status == "queued")
                    | ((Notification.status == "sending") & (Notification.claimed_at < stale)))
             .where(Notification.attempts < MAX_ATTEMPTS, Notification.id > after_id)
             .order_by(Notification.id).limit(limit))
    return list(session.scalars(query))


def claim(session: Session, notification_id: int, *, message_id: str, now: datetime) -> bool:
    """Take the row for sending. Only one process wins: the UPDATE matches a row that is still queued (or
    abandoned); the loser's UPDATE matches nothing. The caller commits at once."""
    stale = now - STALE_SENDING
    result = session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.attempts < MAX_ATTEMPTS)
        .where((Notification.status == "queued")
               | ((Notification.status == "sending") & (Notification.claimed_at < stale)))
        .values(status="sending", claimed_at=now, attempts=Notification.attempts + 1,
                message_id=_coalesce_message_id(message_id))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def mark_sent(session: Session, notification_id: int, *, now: datetime) -> None:
    session.execute(
        update(Notification).where(Notification.id == notification_id, Notification.status == "sending")
        .values(status="sent", sent_at=now, last_error=None).execution_options(synchronize_session=False)
    )


def mark_failed(session: Session, notification_id: int, error: str, *, now: datetime) -> None:
    """Back in the queue for the next try, keeping the error; after MAX_ATTEMPTS it stays failed."""
    session.execute(
        update(Notification).where(Notification.id == notification_id, Notification.status == "sending")
        .values(status=_retry_or_fail(), last_error=error[:2000], claimed_at=None)
        .execution_options(synchronize_session=False)
    )


def requeue_failed(session: Session) -> int:
    """An operator gives failed rows a fresh set of attempts (after fixing the mail server)."""
    result = session.execute(
        update(Notification).where(Notification.status == "failed")
        .values(status="queued", attempts=0).execution_options(synchronize_session=False)
    )
    return result.rowcount


def _retry_or_fail():
    return case((Notification.attempts >= MAX_ATTEMPTS, "failed"), else_="queued")


def _coalesce_message_id(message_id: str):
    return func.coalesce(Notification.message_id, message_id)
