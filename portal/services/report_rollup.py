"""The dashboard's per-ticket measurements (`models.TicketMetric`), kept current as tickets change.

Each row is computed from the ticket as it stands, its status events and its messages, with the definitions of
docs/metrics.md: first reply and resolution on the clock of the ticket's SLA policy, the resolution clock paused
while pending or on hold, reopened before its current solution, public agent replies. `watch` hooks a
sessionmaker so that, when a transaction commits, every ticket that changed, was created, or gained messages or
events in it gets its row recomputed in that same transaction: a rolled-back change leaves the row as it was.
The agents' public replies are copied to `ReplyMetric` the same way.

`rebuild` recomputes every row in batches: after bulk imports that bypass the ORM, or after an SLA policy, a
business calendar, a requester's plan or an agent's role changed. Those do not touch the tickets, so their rows
keep the old measurement until then.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import delete, exists, func, or_, select
from sqlalchemy.orm import Session

from portal.clock import utcnow
from portal.models import BusinessCalendar, Message, SlaPolicy, Ticket, TicketEvent, User
from portal.models.reports import ReplyMetric, TicketMetric
from portal.services import commit_hooks
from portal.services.report_calendar import BusinessClock, calendar_minutes, shared_clock
from portal.services.reports import AGENT_ROLES, PAUSED

BATCH = 5000
# How far past the last moment the business clocks are laid out: enough for any first-reply target to fall due.
CLOCK_MARGIN = timedelta(days=30)
LONG_MARGIN = timedelta(days=400)

Which = Callable[[object], object]  # a column of ticket ids -> the condition that picks the measured tickets


class Clocks:
    """Which clock measures a ticket: its SLA policy's business calendar, or plain minutes."""

    def __init__(self, session: Session, first: datetime, last: datetime) -> None:
        self.policies = {(p.priority, p.plan): p for p in session.scalars(select(SlaPolicy))}
        calendars = {c.id: c for c in session.scalars(select(BusinessCalendar).order_by(BusinessCalendar.id))}
        default = next(iter(calendars.values()), None)
        self._calendars: dict[int, BusinessCalendar | None] = {
            policy.id: (calendars.get(policy.calendar_id) or default) if policy.business_hours else None
            for policy in self.policies.values()}
        # Laid out on first use: refreshing one ticket at commit needs one policy's clock, not all of them.
        self._clocks: dict[int, BusinessClock | None] = {}
        self._first, self._last = first, last

    def _clock(self, policy_id: int) -> BusinessClock | None:
        if policy_id not in self._clocks:
            calendar = self._calendars.get(policy_id)
            self._clocks[policy_id] = shared_clock(calendar, self._first, self._last + CLOCK_MARGIN) \
                if calendar else None
        return self._clocks[policy_id]

    def policy(self, priority: str, plan: str | None) -> SlaPolicy | None:
        return self.policies.get((priority, plan or "standard")) or self.policies.get((priority, "standard"))

    def minutes(self, policy: SlaPolicy | None, start: datetime, end: datetime) -> float:
        clock = self._clock(policy.id) if policy is not None else None
        if clock is None:
            return calendar_minutes(start, end)
        return clock.minutes(start, end)

    def late_after(self, policy: SlaPolicy, start: datetime, minutes: int) -> datetime | None:
        """The moment after which `minutes` on the policy's clock have passed since `start`."""
        clock = self._clock(policy.id)
        if clock is None:
            return start + timedelta(minutes=minutes)
        moment = clock.late_after(start, minutes)
        if moment is None:  # a target longer than the margin, or a calendar with few working days
            moment = BusinessClock(self._calendars[policy.id], self._first, self._last + LONG_MARGIN).late_after(
                start, minutes)
        return moment


def paused_minutes(events: list[tuple[datetime, str]], until: datetime, minutes) -> float:
    """Minutes spent pending or on hold before `until`, as the SLA's resolution clock pauses."""
    total, since = 0.0, None
    for at, new in events:
        if at > until:
            break
        if new in PAUSED and since is None:
            since = at
        elif new not in PAUSED and since is not None:
            total += minutes(since, at)
            since = None
    if since is not None:
        total += minutes(since, until)
    return total


# ---- Measuring tickets ------------------------------------------------------------------------------------


def measure(session: Session, which: Which, clocks: Clocks) -> list[dict]:
    """The rollup rows of the tickets `which` picks: four queries, whatever their number."""
    tickets = session.execute(
        select(Ticket.id, Ticket.created_at, Ticket.first_response_at, Ticket.solved_at, Ticket.priority,
               Ticket.assignee_id, Ticket.group_id, Ticket.channel, Ticket.category_id, Ticket.language,
               func.coalesce(Ticket.sla_plan, User.plan).label("plan"))
        .join(User, User.id == Ticket.requester_id).where(which(Ticket.id))).all()
    if not tickets:
        return []
    pauses: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for ticket_id, at, new in session.execute(
            select(TicketEvent.ticket_id, TicketEvent.created_at, TicketEvent.new_value)
            .where(which(TicketEvent.ticket_id), TicketEvent.field == "status",
                   or_(TicketEvent.new_value.in_(PAUSED), TicketEvent.old_value.in_(PAUSED)))
            .order_by(TicketEvent.ticket_id, TicketEvent.id)):
        pauses[ticket_id].append((at, new))
    reopened = set(session.scalars(
        select(TicketEvent.ticket_id).join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(which(TicketEvent.ticket_id), TicketEvent.kind == "reopened",
               TicketEvent.created_at <= Ticket.solved_at).distinct()))
    replies = dict(session.execute(
        select(Message.ticket_id, func.count()).join(User, User.id == Message.author_id)
        .where(which(Message.ticket_id), Message.public.is_(True), User.role.in_(AGENT_ROLES))
        .group_by(Message.ticket_id)).all())
    return [_row(t, clocks, pauses.get(t.id, []), t.id in reopened, replies.get(t.id, 0)) for t in tickets]


def _row(t, clocks: Clocks, pauses: list[tuple[datetime, str]], reopened: bool, replies: int) -> dict:
    policy = clocks.policy(t.priority, t.plan)
    target = policy.first_reply_minutes if policy else None
    first_reply = first_met = late_after = None
    if t.first_response_at is not None:
        first_reply = clocks.minutes(policy, t.created_at, t.first_response_at)
        first_met = first_reply <= target if target else None
    elif target:
        late_after = clocks.late_after(policy, t.created_at, target)
    resolution = resolution_met = None
    if t.solved_at is not None:
        resolution = clocks.minutes(policy, t.created_at, t.solved_at)
        if policy is not None and policy.resolution_minutes:
            paused = paused_minutes(pauses, t.solved_at, lambda a, b, p=policy: clocks.minutes(p, a, b))
            resolution_met = resolution - paused <= policy.resolution_minutes
    return {
        "ticket_id": t.id, "created_at": t.created_at, "created_on": t.created_at.date(), "solved_at": t.solved_at,
        "solved_on": t.solved_at.date() if t.solved_at else None, "group_id": t.group_id,
        "assignee_id": t.assignee_id, "channel": t.channel, "category_id": t.category_id, "language": t.language,
        "priority": t.priority, "first_reply_minutes": first_reply, "first_reply_met": first_met,
        "first_reply_late_after": late_after, "resolution_minutes": resolution, "resolution_met": resolution_met,
        "reopened": reopened, "agent_replies": replies,
    }


@cache
def _upsert(dialect: str):
    """Built once: `excluded` copies every column of the table, a cost worth paying once, not at each commit."""
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert
    table = TicketMetric.__table__
    statement = insert(table)
    columns = [c.name for c in table.columns if c.name != "ticket_id"]
    return statement.on_conflict_do_update(
        index_elements=["ticket_id"], set_={name: statement.excluded[name] for name in columns})


def _save(session: Session, rows: list[dict]) -> None:
    """Insert or replace: one statement for the batch."""
    if not rows:
        return
    table = TicketMetric.__table__
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        session.execute(_upsert(dialect), rows)
    else:
        session.execute(delete(table).where(table.c.ticket_id.in_([r["ticket_id"] for r in rows])))
        session.execute(table.insert(), rows)


def _save_replies(session: Session, which: Which) -> None:
    """The public agent replies of the tickets `which` picks, copied with their ticket's filter columns."""
    table = ReplyMetric.__table__
    session.execute(delete(table).where(which(table.c.ticket_id)))
    session.execute(table.insert().from_select(
        ["message_id", "ticket_id", "created_at", "author_id", "group_id", "assignee_id", "channel", "category_id",
         "language", "priority"],
        select(Message.id, Message.ticket_id, Message.created_at, Message.author_id, Ticket.group_id,
               Ticket.assignee_id, Ticket.channel, Ticket.category_id, Ticket.language, Ticket.priority)
        .join(Ticket, Ticket.id == Message.ticket_id).join(User, User.id == Message.author_id)
        .where(which(Message.ticket_id), Message.public.is_(True), User.role.in_(AGENT_ROLES))))


def refresh(session: Session, ticket_ids: Iterable[int], *, now: datetime) -> int:
    """Recompute the rows of these tickets (a deleted ticket loses its row). Returns how many rows were written."""
    ids = sorted({i for i in ticket_ids if i is not None})
    written = 0
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        bounds = session.execute(select(func.min(Ticket.created_at), func.max(Ticket.solved_at))
                                 .where(Ticket.id.in_(chunk))).one()
        which = lambda column, chunk=chunk: column.in_(chunk)  # noqa: E731
        if bounds[0] is None:
            session.execute(delete(TicketMetric).where(TicketMetric.ticket_id.in_(chunk)))
            _save_replies(session, which)
            continue
        clocks = Clocks(session, bounds[0], max(now, bounds[1] or now))
        rows = measure(session, which, clocks)
        _save(session, rows)
        _save_replies(session, which)
        gone = set(chunk) - {r["ticket_id"] for r in rows}
        if gone:
            session.execute(delete(TicketMetric).where(TicketMetric.ticket_id.in_(gone)))
        written += len(rows)
    return written


def rebuild(session: Session, *, now: datetime, batch: int = BATCH,
            on_progress: Callable[[int], None] | None = None) -> int:
    """Recompute every row, `batch` tickets per transaction (this function commits, like a CLI command)."""
    lowest, highest, first, last = session.execute(
        select(func.min(Ticket.id), func.max(Ticket.id), func.min(Ticket.created_at),
               func.max(Ticket.solved_at))).one()
    session.execute(delete(TicketMetric).where(TicketMetric.ticket_id.not_in(select(Ticket.id))))
    session.execute(delete(ReplyMetric).where(ReplyMetric.ticket_id.not_in(select(Ticket.id))))
    session.commit()
    if lowest is None:
        return 0
    clocks = Clocks(session, first, max(now, last or now))
    written = 0
    for start in range(lowest, highest + 1, batch):
        which = lambda column, lo=start: column.between(lo, lo + batch - 1)  # noqa: E731
        rows = measure(session, which, clocks)
        _save(session, rows)
        _save_replies(session, which)
        session.commit()
        written += len(rows)
        if on_progress is not None:
            on_progress(len(rows))
    return written


def catch_up(session: Session, *, now: datetime, limit: int = 500) -> int:
    """Measure up to `limit` tickets that have no row yet: written outside the portal's sessions (an import, a
    restored backup, a database from before the rollup). The background worker runs it, so the dashboard
    catches up without anyone running `reports rebuild`. Commits; returns how many tickets were measured."""
    missing = session.scalars(
        select(Ticket.id).where(~exists().where(TicketMetric.ticket_id == Ticket.id)).order_by(Ticket.id)
        .limit(limit)).all()
    if missing:
        refresh(session, missing, now=now)
    session.commit()
    return len(missing)


# ---- Keeping the rows current -----------------------------------------------------------------------------


def watch(session_factory) -> None:
    """Recompute the rows of changed tickets in every transaction of sessions made by this factory."""
    commit_hooks.before_commit(session_factory, _changed_ticket_ids, _refresh_at_commit)


def _changed_ticket_ids(session: Session) -> list[int]:
    changed = []
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Ticket):
            changed.append(obj.id)
        elif isinstance(obj, Message | TicketEvent):
            changed.append(obj.ticket_id)
    return changed


def _refresh_at_commit(session: Session, changed: list[int]) -> None:
    refresh(session, set(changed), now=utcnow())
