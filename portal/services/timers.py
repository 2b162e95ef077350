"""The clock's work on tickets, run from cron (`flask --app app tickets auto-close`).

- A solved ticket closes by itself `auto_close_days` after it was solved.
- A pending ticket's customer is reminded once, `reminder_days` into the pending period (recorded as a
  `pending_reminder_sent` event), and the ticket is set solved after `auto_solve_days`, with a public
  message in the ticket's language saying why.

Safe to run twice, or on two hosts at once: each ticket is claimed with a conditional UPDATE on its status
and version before anything is done to it, in a transaction of its own. Whoever loses the race matches no
row and moves on, so nothing is closed or mailed twice. Unlike other services this one commits, once per
ticket: it is a batch job, and one ticket's failure must not undo the others'.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from portal.errors import Conflict, InvalidTransition
from portal.models import Ticket, TicketEvent
from portal.services import notifications, tickets

log = logging.getLogger(__name__)

REMINDER_EVENT = "pending_reminder_sent"


@dataclass(frozen=True)
class TimerSettings:
    auto_close_days: int = 28
    reminder_days: int = 3
    auto_solve_days: int = 7


@dataclass
class TimerReport:
    closed: list[str] = field(default_factory=list)
    reminded: list[str] = field(default_factory=list)
    solved: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notifications: list[int] = field(default_factory=list)  # ids queued, for the caller to dispatch


def english_auto_solve_message(language: str, days: int) -> str:
    return (f"We have not heard from you for {days} days, so we have marked this ticket as solved. "
            "If you still need help, reply and we will pick it up again.")


def run(
    session: Session, settings: TimerSettings, *, now: datetime,
    auto_solve_message: Callable[[str, int], str] = english_auto_solve_message,
) -> TimerReport:
    """Everything that is due at `now`, ticket by ticket."""
    report = TimerReport()
    for ticket_id, version in _solved_before(session, now - timedelta(days=settings.auto_close_days)):
        _one(session, report, report.closed, ticket_id, "solved", version,
             lambda t: _auto_close(session, t, settings, now))
    for ticket_id, version, since, reminded in _pending(session):
        if since + timedelta(days=settings.auto_solve_days) <= now:
            _one(session, report, report.solved, ticket_id, "pending", version,
                 lambda t, since=since: _auto_solve(session, t, since, settings, now, auto_solve_message))
        elif since + timedelta(days=settings.reminder_days) <= now and not reminded:
            _one(session, report, report.reminded, ticket_id, "pending", version,
                 lambda t: _remind(session, t, settings, now))
    return report


def pending_since(session: Session, ticket: Ticket) -> datetime:
    """When the ticket last went into pending: its latest status event into pending."""
    since = session.scalar(
        select(TicketEvent.created_at)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.field == "status", TicketEvent.new_value == "pending")
        .order_by(TicketEvent.id.desc()).limit(1)
    )
    return since or ticket.created_at


def _one(session: Session, report: TimerReport, done: list[str], ticket_id: int, status: str, version: int,
         work: Callable[[Ticket], None]) -> None:
    """Claim the ticket (still `status`, still `version`), do the work and commit; or leave it to the winner."""
    try:
        ticket = _claim(session, ticket_id, status, version)
        if ticket is None:
            session.rollback()
            return
        work(ticket)
        session.commit()
        # After the commit: the business rules, which run as it commits, may have queued mail too.
        queued = list(session.info.get("queued_notifications", []))
    except (InvalidTransition, Conflict) as exc:
        session.rollback()
        log.info("Timer skipped ticket %s: %s", ticket_id, exc)
        return
    except Exception:
        session.rollback()
        log.exception("Timer failed on ticket %s", ticket_id)
        report.errors.append(str(ticket_id))
        return
    finally:
        session.info.pop("queued_notifications", None)
    done.append(ticket.ref)
    report.notifications.extend(n.id for n in queued)


def _claim(session: Session, ticket_id: int, status: str, version: int) -> Ticket | None:
    """One atomic UPDATE decides who handles the ticket: it matches only while nobody else has touched it.
    (On PostgreSQL the row stays locked until this transaction ends; on SQLite the whole file does.)"""
    claimed = session.execute(
        update(Ticket).where(Ticket.id == ticket_id, Ticket.status == status, Ticket.version == version)
        .values(version=Ticket.version + 1).execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        return None
    return session.get(Ticket, ticket_id, populate_existing=True)


def _auto_close(session: Session, ticket: Ticket, settings: TimerSettings, now: datetime) -> None:
    tickets.change_status(session, ticket, "auto_close", actor=None, role="system", now=now,
                          auto_close_days=settings.auto_close_days)


def _auto_solve(session: Session, ticket: Ticket, since: datetime, settings: TimerSettings, now: datetime,
                text: Callable[[str, int], str]) -> None:
    tickets.change_status(session, ticket, "pending_timeout", actor=None, role="system", now=now,
                          pending_since=since, pending_timeout_days=settings.auto_solve_days)
    tickets.add_message(session, ticket, body=text(ticket.language, settings.auto_solve_days), author=None,
                        public=True, now=now)


def _remind(session: Session, ticket: Ticket, settings: TimerSettings, now: datetime) -> None:
    session.add(TicketEvent(ticket=ticket, actor_id=None, created_at=now, kind=REMINDER_EVENT, field=None,
                            old_value=None, new_value=None))
    notifications.pending_reminder(session, ticket, days=settings.reminder_days, now=now)


def _solved_before(session: Session, moment: datetime) -> list[tuple[int, int]]:
    rows = session.execute(
        select(Ticket.id, Ticket.version).where(Ticket.status == "solved", Ticket.solved_at <= moment)
        .order_by(Ticket.id)
    )
    return [(row.id, row.version) for row in rows]


def _pending(session: Session) -> list[tuple[int, int, datetime, bool]]:
    """Pending tickets with when they became pending and whether this period's reminder went out."""
    into_pending = (
        select(func.max(TicketEvent.id))
        .where(TicketEvent.ticket_id == Ticket.id, TicketEvent.field == "status", TicketEvent.new_value == "pending")
        .correlate(Ticket).scalar_subquery()
    )
    rows = session.execute(
        select(Ticket.id, Ticket.version, Ticket.created_at, into_pending.label("event_id"))
        .where(Ticket.status == "pending").order_by(Ticket.id)
    ).all()
    event_ids = [row.event_id for row in rows if row.event_id is not None]
    times = {event_id: at for event_id, at in session.execute(
        select(TicketEvent.id, TicketEvent.created_at).where(TicketEvent.id.in_(event_ids)))}
    reminded = _reminded_after(session, {row.id: row.event_id or 0 for row in rows})
    return [(row.id, row.version, times.get(row.event_id, row.created_at), row.id in reminded) for row in rows]


def _reminded_after(session: Session, since_event: dict[int, int]) -> set[int]:
    if not since_event:
        return set()
    rows = session.execute(
        select(TicketEvent.ticket_id, func.max(TicketEvent.id))
        .where(TicketEvent.kind == REMINDER_EVENT, TicketEvent.ticket_id.in_(list(since_event)))
        .group_by(TicketEvent.ticket_id)
    )
    return {ticket_id for ticket_id, last in rows if last > since_event[ticket_id]}
