"""SLA clocks: which policy a ticket runs on, when its running target is due, and breaches.

A policy (priority × customer plan) has up to three targets in minutes: first reply (from filing until the
first public agent reply), next reply (from the customer's latest public message while it is unanswered) and
resolution (from filing until solved; pending and on hold pause it). Targets count calendar minutes, or business
minutes of a `BusinessCalendar` (weekly hours in a time zone, minus holidays).

`refresh(session, ticket, now)` keeps `ticket.sla_due_at` (the earliest running target) current; the tickets
service calls it whenever a ticket changes. `check` (cron: `flask --app app tickets sla-check`) records each
ticket's first breach once as a `sla_breached` event and warns the assignee an hour before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select

from portal.models import BusinessCalendar, Category, Group, Message, SlaPolicy, Ticket, TicketEvent, User

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

PAUSED = ("pending", "on_hold")
DONE = ("solved", "closed")
WARN_BEFORE = timedelta(hours=1)
_MAX_DAYS = 3 * 366


# ---- Business time --------------------------------------------------------------------------------------


def _windows(calendar: BusinessCalendar, day: date) -> list[tuple[datetime, datetime]]:
    """The working windows of one local day, as naive UTC (none on a holiday or a closed weekday)."""
    if any(h.day == day for h in calendar.holidays):
        return []
    span = (calendar.hours or {}).get(str(day.weekday()))
    if not span:
        return []
    zone = ZoneInfo(calendar.timezone or "UTC")
    start, end = (time.fromisoformat(span[0]), time.fromisoformat(span[1]))
    as_utc = [datetime.combine(day, t, tzinfo=zone).astimezone(UTC).replace(tzinfo=None) for t in (start, end)]
    return [(as_utc[0], as_utc[1])] if as_utc[0] < as_utc[1] else []


def _local_day(moment: datetime, calendar: BusinessCalendar) -> date:
    return moment.replace(tzinfo=UTC).astimezone(ZoneInfo(calendar.timezone or "UTC")).date()


def add_minutes(start: datetime, minutes: int, calendar: BusinessCalendar | None) -> datetime:
    """`minutes` after `start` (naive UTC): calendar minutes, or working minutes of `calendar`."""
    if calendar is None:
        return start + timedelta(minutes=minutes)
    remaining = timedelta(minutes=minutes)
    day = _local_day(start, calendar) - timedelta(days=1)  # a window may start the local day before in UTC
    for _ in range(_MAX_DAYS):
        for opens, closes in _windows(calendar, day):
            begin = max(opens, start)
            if begin >= closes:
                continue
            if begin + remaining <= closes:
                return begin + remaining
            remaining -= closes - begin
        day += timedelta(days=1)
    raise ValueError("the calendar has no working hours")


def working_minutes(start: datetime, end: datetime, calendar: BusinessCalendar | None) -> float:
    """How many minutes between two moments count: all of them, or those inside working hours."""
    if end <= start:
        return 0.0
    if calendar is None:
        return (end - start).total_seconds() / 60
    total, day = timedelta(), _local_day(start, calendar) - timedelta(days=1)
    while day <= _local_day(end, calendar):
        for opens, closes in _windows(calendar, day):
            overlap = min(closes, end) - max(opens, start)
            if overlap > timedelta():
                total += overlap
        day += timedelta(days=1)
    return total.total_seconds() / 60


# ---- Policies -------------------------------------------------------------------------------------------


def policy_for(session: Session, priority: str, plan: str | None) -> SlaPolicy | None:
    """The policy for this priority and plan, else the standard plan's."""
    policies = {p.plan: p for p in session.scalars(select(SlaPolicy).where(SlaPolicy.priority == priority))}
    return policies.get(plan or "standard") or policies.get("standard")


def plan_of(ticket: Ticket) -> str | None:
    """The plan whose targets the ticket runs on: its own, when a rule chose one, else its requester's."""
    return ticket.sla_plan or (ticket.requester.plan if ticket.requester else None)


def calendar_of(session: Session, policy: SlaPolicy) -> BusinessCalendar | None:
    """None means calendar hours; a business-hours policy without its own calendar uses the first one."""
    if not policy.business_hours:
        return None
    return policy.calendar or session.scalar(select(BusinessCalendar).order_by(BusinessCalendar.id).limit(1))


def promised_first_reply(session: Session, category_or_group: Category | Group | None, priority: str,
                         user: User | None, now: datetime) -> Promise | None:
    """What the customer is promised while filing: the first-reply target and the moment it falls on."""
    del category_or_group  # policies are per priority and plan; the hook stays for per-group policies
    policy = policy_for(session, priority, getattr(user, "plan", None))
    if policy is None or not policy.first_reply_minutes:
        return None
    calendar = calendar_of(session, policy)
    return Promise(minutes=policy.first_reply_minutes, business_hours=calendar is not None,
                   due_at=add_minutes(now, policy.first_reply_minutes, calendar))


@dataclass(frozen=True)
class Promise:
    minutes: int
    business_hours: bool
    due_at: datetime

    @property
    def in_hours(self) -> bool:
        return self.minutes % 60 == 0

    @property
    def amount(self) -> int:
        """Whole hours when the target is a whole number of hours, else minutes."""
        return self.minutes // 60 if self.in_hours else self.minutes


# ---- The ticket's clocks --------------------------------------------------------------------------------


@dataclass
class Clocks:
    first_reply: datetime | None = None
    next_reply: datetime | None = None
    resolution: datetime | None = None
    running: list[datetime] = field(default_factory=list)


def clocks(session: Session, ticket: Ticket, now: datetime) -> Clocks:
    """The due moments of the targets still running for this ticket."""
    policy = policy_for(session, ticket.priority, plan_of(ticket))
    result = Clocks()
    if policy is None or ticket.status in DONE:
        return result
    calendar = calendar_of(session, policy)
    if policy.first_reply_minutes and ticket.first_response_at is None:
        result.first_reply = add_minutes(ticket.created_at, policy.first_reply_minutes, calendar)
    if policy.next_reply_minutes and ticket.first_response_at is not None and ticket.status not in PAUSED:
        waiting_since = _unanswered_since(session, ticket)
        if waiting_since is not None:
            result.next_reply = add_minutes(waiting_since, policy.next_reply_minutes, calendar)
    if policy.resolution_minutes and ticket.status not in PAUSED:
        paused = _paused_minutes(session, ticket, calendar, now)
        result.resolution = add_minutes(ticket.created_at, policy.resolution_minutes + round(paused), calendar)
    result.running = sorted(d for d in (result.first_reply, result.next_reply, result.resolution) if d)
    return result


def refresh(session: Session, ticket: Ticket, now: datetime) -> datetime | None:
    """Recompute `ticket.sla_due_at` (the earliest running target; None when nothing runs)."""
    ticket.sla_due_at = (clocks(session, ticket, now).running or [None])[0]
    return ticket.sla_due_at


def state(ticket: Ticket, now: datetime) -> str:
    """For badges: "breached", "due_soon" (within an hour), "ok", or "none" when no clock runs."""
    if ticket.sla_due_at is None:
        return "breached" if ticket.sla_breached_at and ticket.status not in DONE else "none"
    if ticket.sla_due_at <= now:
        return "breached"
    return "due_soon" if ticket.sla_due_at - now <= WARN_BEFORE else "ok"


def _unanswered_since(session: Session, ticket: Ticket) -> datetime | None:
    """When the customer's latest public message arrived, if no agent has answered it in public yet."""
    latest = session.execute(
        select(Message.created_at, User.role).join(User, User.id == Message.author_id)
        .where(Message.ticket_id == ticket.id, Message.public.is_(True))
        .order_by(Message.created_at.desc(), Message.id.desc()).limit(1)
    ).first()
    if latest is None or latest.role in ("agent", "admin"):
        return None
    return latest.created_at


def _paused_minutes(session: Session, ticket: Ticket, calendar: BusinessCalendar | None, now: datetime) -> float:
    """Time the ticket spent pending or on hold, from its status events."""
    changes = session.execute(
        select(TicketEvent.created_at, TicketEvent.new_value)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.field == "status").order_by(TicketEvent.id)
    ).all()
    total, paused_at = 0.0, None
    for created_at, new_value in changes:
        if new_value in PAUSED and paused_at is None:
            paused_at = created_at
        elif new_value not in PAUSED and paused_at is not None:
            total += working_minutes(paused_at, created_at, calendar)
            paused_at = None
    if paused_at is not None:
        total += working_minutes(paused_at, now, calendar)
    return total


# ---- The cron check -------------------------------------------------------------------------------------


@dataclass
class CheckReport:
    breached: list[Ticket] = field(default_factory=list)
    warned: list[Ticket] = field(default_factory=list)


def check(session: Session, *, now: datetime) -> CheckReport:
    """Record breaches (once per ticket) and warn assignees of targets due within the hour. Idempotent."""
    report = CheckReport()
    soon = session.scalars(
        select(Ticket).where(Ticket.sla_due_at.is_not(None), Ticket.sla_due_at <= now + WARN_BEFORE,
                             Ticket.status.not_in(DONE)).order_by(Ticket.sla_due_at)
    ).all()
    for ticket in soon:
        due = ticket.sla_due_at
        if due <= now:
            if ticket.sla_breached_at is None:
                ticket.sla_breached_at = due
                session.add(TicketEvent(ticket=ticket, created_at=now, kind="sla_breached", field="sla_due_at",
                                        new_value=due.isoformat(timespec="minutes")))
                _notify(session, ticket, "sla_breached", now)
                report.breached.append(ticket)
        elif not _warned(session, ticket, due):
            session.add(TicketEvent(ticket=ticket, created_at=now, kind="sla_warning", field="sla_due_at",
                                    new_value=due.isoformat(timespec="minutes")))
            _notify(session, ticket, "sla_warning", now)
            report.warned.append(ticket)
    return report


def _warned(session: Session, ticket: Ticket, due: datetime) -> bool:
    return session.scalar(select(TicketEvent.id).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "sla_warning",
        TicketEvent.new_value == due.isoformat(timespec="minutes")).limit(1)) is not None


def _notify(session: Session, ticket: Ticket, kind: str, now: datetime) -> None:
    """Tell the assignee through the agent notifications, when that service exists."""
    if ticket.assignee is None:
        return
    try:
        from portal.services import agent_notifications
    except ImportError:
        return
    notify = getattr(agent_notifications, "notify", None)
    if notify is not None:
        notify(session, ticket.assignee, kind, ticket, now=now)
