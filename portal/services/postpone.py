"""Postpone: an agent (or a rule) puts a ticket aside until a date and time.

A postponed ticket leaves the working queues (the "Postponed" queue lists it, with when it comes back) and
comes back open, assigned as before, when the time comes. It is not a status: the status table says from
where a ticket may be postponed (`Action.POSTPONE`: not solved, not closed) and where it goes when the
postponement ends (`Action.RESUME`: open); the customer sees the ticket's status as it is.

When the time comes the ticket is back in the queues at once (every queue reads `postponed_until <= now` as not
postponed), and `wake_due`, run with the automations (`flask --app app rules run-automations`), makes it open,
clears the date and records "back from postponement". Like the timers, it claims each ticket with one
conditional UPDATE on its version and commits once per ticket, so several hosts may run it at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from portal.errors import N_, Invalid, InvalidTransition, NotFound
from portal.models import Ticket, TicketEvent, User
from portal.services import tickets
from portal.status import Action, Role, can

log = logging.getLogger(__name__)

MAX_AHEAD = timedelta(days=365)
POSTPONED_EVENT = "postponed"
ENDED_EVENT = "postpone_ended"
FIELD = "postponed_until"
BATCH = 500
QUICK_HOUR = time(9, 0)  # the quick choices bring a ticket back at the start of the working day


# ---- Where it shows --------------------------------------------------------------------------------------------


def is_postponed(ticket: Ticket, *, now: datetime) -> bool:
    """Out of the working queues now: its time has not come yet."""
    return ticket.postponed_until is not None and ticket.postponed_until > now


def postponed(now: datetime) -> ColumnElement[bool]:
    """The tickets whose time has not come: the "Postponed" queue (read on its own index)."""
    return Ticket.postponed_until > now


def not_postponed(now: datetime) -> ColumnElement[bool]:
    """The working queues' condition: never postponed, or its time has come (even before the job has run)."""
    return or_(Ticket.postponed_until.is_(None), Ticket.postponed_until <= now)


# ---- Agents ------------------------------------------------------------------------------------------------------


def postpone(session: Session, ticket: Ticket, until: datetime | None, *, actor: User, now: datetime,
             expected_version: int | None = None) -> TicketEvent:
    """An agent puts the ticket aside until `until` (UTC): it leaves the working queues, keeps its assignee and
    status, and comes back open then. The time must be in the future and at most a year ahead; a solved or
    closed ticket cannot be postponed. Postponing a postponed ticket moves the date."""
    _require_agent(actor)
    tickets.check_version(ticket, expected_version)
    return _postpone(session, ticket, check_until(until, now=now), actor=actor, role=tickets.role_of(actor), now=now)


def postpone_by_rule(session: Session, ticket: Ticket, until: datetime, *, now: datetime) -> TicketEvent:
    """A business rule postpones as an agent could (the table's agent cells); no person acted, so the event
    names none (services.rules marks it with the rule)."""
    return _postpone(session, ticket, check_until(until, now=now), actor=None, role=Role.AGENT, now=now)


def resume(session: Session, ticket: Ticket, *, actor: User, now: datetime,
           expected_version: int | None = None) -> list[TicketEvent]:
    """"Resume now": the agent ends the postponement early; the ticket comes back as if its time had come."""
    _require_agent(actor)
    tickets.check_version(ticket, expected_version)
    if ticket.postponed_until is None:
        raise InvalidTransition(N_("This ticket is not postponed."), status=ticket.status, action="resume")
    return _end(session, ticket, actor=actor, role=tickets.role_of(actor), now=now)


def customer_replied(session: Session, ticket: Ticket, *, actor: User, now: datetime) -> list[TicketEvent]:
    """The customer wrote: the ticket is back in the queues now, not at the date (the reply itself moved its
    status through the table)."""
    if ticket.postponed_until is None:
        return []
    return _end(session, ticket, actor=actor, role=Role.CUSTOMER, now=now)


def status_changed(session: Session, ticket: Ticket, *, actor: User | None, now: datetime) -> list[TicketEvent]:
    """Solved or closed: there is nothing left to come back to, so the postponement ends with it (a reopened
    ticket is then in the queues at once)."""
    if ticket.postponed_until is None or ticket.status not in ("solved", "closed"):
        return []
    old = ticket.postponed_until
    ticket.postponed_until = None
    ended = TicketEvent(ticket=ticket, actor=actor, created_at=now, kind=ENDED_EVENT, field=FIELD,
                        old_value=_iso(old), new_value=None)
    session.add(ended)
    return [ended]


def check_until(until: datetime | None, *, now: datetime) -> datetime:
    """The time a ticket comes back, to the minute: in the future, at most a year ahead."""
    if until is None:
        raise Invalid(N_("Choose when the ticket comes back."), field="until")
    until = until.replace(second=0, microsecond=0)
    if until <= now:
        raise Invalid(N_("Choose a time in the future."), field="until")
    if until > now + MAX_AHEAD:
        raise Invalid(N_("A ticket can be postponed at most %(days)s days ahead."), field="until",
                      days=MAX_AHEAD.days)
    return until


def _postpone(session: Session, ticket: Ticket, until: datetime, *, actor: User | None, role: Role,
              now: datetime) -> TicketEvent:
    if not can(ticket, Action.POSTPONE, role):
        raise InvalidTransition(N_("A solved or closed ticket cannot be postponed."), status=ticket.status,
                                action=Action.POSTPONE.value)
    old = ticket.postponed_until
    if role is Role.AGENT and actor is None:
        tickets.change_status_by_rule(session, ticket, Action.POSTPONE, now=now)
    else:
        tickets.change_status(session, ticket, Action.POSTPONE, actor=actor, role=role, now=now)
    ticket.postponed_until = until
    event = TicketEvent(ticket=ticket, actor=actor, created_at=now, kind=POSTPONED_EVENT, field=FIELD,
                        old_value=_iso(old), new_value=_iso(until))
    session.add(event)
    return event


def _end(session: Session, ticket: Ticket, *, actor: User | None, role: Role, now: datetime) -> list[TicketEvent]:
    """Back from postponement: open through the status table when it allows it from here; otherwise (it was
    solved meanwhile) only the date is cleared. The assignee stays."""
    old = ticket.postponed_until
    events: list[TicketEvent] = []
    if can(ticket, Action.RESUME, role):
        events += tickets.change_status(session, ticket, Action.RESUME, actor=actor, role=role, now=now)
    else:
        ticket.updated_at = now
        ticket.version += 1
    ticket.postponed_until = None
    ended = TicketEvent(ticket=ticket, actor=actor, created_at=now, kind=ENDED_EVENT, field=FIELD,
                        old_value=_iso(old), new_value=None)
    session.add(ended)
    return [*events, ended]


def _require_agent(actor: User | None) -> None:
    if actor is None or not actor.is_agent:
        raise NotFound(N_("We could not find that ticket."))


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="minutes")


# ---- The job: bringing tickets back -------------------------------------------------------------------------------


@dataclass
class WakeReport:
    woken: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notifications: list[int] = field(default_factory=list)  # queued by the rules at each commit, to dispatch


def wake_due(session: Session, *, now: datetime, batch: int = BATCH) -> WakeReport:
    """Every ticket whose postponement has ended by `now` comes back (see `_end`), each in a transaction of
    its own. Safe on several hosts at once: a ticket is claimed before it is touched, and only once."""
    report = WakeReport()
    last = 0
    while True:
        rows = session.execute(select(Ticket.id, Ticket.version)
                               .where(Ticket.postponed_until <= now, Ticket.id > last)
                               .order_by(Ticket.id).limit(batch)).all()
        session.rollback()  # read nothing held across tickets
        for ticket_id, version in rows:
            _wake_one(session, ticket_id, version, report, now)
        if len(rows) < batch:
            return report
        last = rows[-1].id


def _wake_one(session: Session, ticket_id: int, version: int, report: WakeReport, now: datetime) -> None:
    try:
        if not _claim(session, ticket_id, version, now):
            session.rollback()
            return
        ticket = session.get(Ticket, ticket_id, populate_existing=True)
        _end(session, ticket, actor=None, role=Role.SYSTEM, now=now)
        ref = ticket.ref
        session.commit()
        queued = list(session.info.get("queued_notifications", []))  # the business rules run as it commits
    except Exception:
        session.rollback()
        log.exception("Could not bring ticket %s back from postponement", ticket_id)
        report.errors.append(str(ticket_id))
        return
    finally:
        session.info.pop("queued_notifications", None)
    report.woken.append(ref)
    report.notifications.extend(n.id for n in queued)


def _claim(session: Session, ticket_id: int, version: int, now: datetime) -> bool:
    """One atomic UPDATE decides who wakes the ticket: it matches only while nobody else has touched it (an
    agent who moved the date meanwhile, or another host that got there first)."""
    claimed = session.execute(
        update(Ticket).where(Ticket.id == ticket_id, Ticket.version == version, Ticket.postponed_until <= now)
        .values(version=Ticket.version + 1).execution_options(synchronize_session=False))
    return claimed.rowcount == 1


# ---- Choosing the time, in the portal's time zone -------------------------------------------------------------------


@dataclass(frozen=True)
class QuickChoice:
    key: str
    label: str  # a message id
    until: datetime  # UTC


QUICK_LABELS = {"tomorrow": N_("Tomorrow 9:00"), "in_3_days": N_("In 3 days, 9:00"),
                "next_monday": N_("Next Monday 9:00")}


def quick_choices(*, now: datetime, zone: str) -> list[QuickChoice]:
    """The one-click choices, at 9:00 in the portal's time zone (`zone`), for `now` in UTC."""
    today = now.replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).date()
    days = {"tomorrow": today + timedelta(days=1), "in_3_days": today + timedelta(days=3),
            "next_monday": today + timedelta(days=7 - today.weekday())}
    return [QuickChoice(key, QUICK_LABELS[key], _utc(day, QUICK_HOUR, zone)) for key, day in days.items()]


def quick_until(key: str | None, *, now: datetime, zone: str) -> datetime:
    found = next((choice for choice in quick_choices(now=now, zone=zone) if choice.key == key), None)
    if found is None:
        raise Invalid(N_("Choose when the ticket comes back."), field="until")
    return found.until


def parse_local(text: str | None, *, zone: str) -> datetime | None:
    """A `datetime-local` input's value (the portal's time zone) as UTC; None when empty. Text that is not a
    date and time is refused naming the field."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        local = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(N_("Enter a date and time, for example %(example)s."), field="until",
                      example="2026-12-09T10:00") from None
    try:
        if local.tzinfo is not None:
            return local.astimezone(UTC).replace(tzinfo=None)
        return _utc(local.date(), local.time(), zone)
    except (OverflowError, ValueError):  # year 1 in a zone east of UTC
        raise Invalid(N_("Choose a time in the future."), field="until") from None


def to_local(moment: datetime, *, zone: str) -> str:
    """A UTC time as a `datetime-local` input's value in the portal's time zone."""
    return moment.replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def _utc(day: date, at: time, zone: str) -> datetime:
    return datetime.combine(day, at, tzinfo=ZoneInfo(zone)).astimezone(UTC).replace(tzinfo=None)
