"""Who works a ticket: take, assign to someone or to a group, automatic assignment, and guided "Next ticket".

Automatic assignment (groups with `auto_assign`): an available, active agent of the ticket's group who has
the skills the ticket needs (its language, and its category's skill when it has one), below their capacity,
with the fewest unsolved tickets; ties go to whoever was assigned automatically longest ago (round-robin).

Guided groups (`guided`): agents do not pick from the queue; "Next ticket" hands them the most urgent
unassigned ticket they fit (the skills automatic assignment asks for; then SLA due, priority, age) with a
conditional UPDATE, so two agents pressing at the same moment never get the same ticket. Who may still assign
a guided group's ticket, and to whom, is `assignment_rules`: every path here and in `agent_desk` asks it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import case, func, select, update

from portal.errors import N_, Invalid, NotAllowed
from portal.models import Category, Group, Ticket, TicketEvent, User, group_members
from portal.services import assignment_rules, sla, tickets
from portal.services.assignment_rules import fits
from portal.services.postpone import not_postponed
from portal.status import Action

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

UNSOLVED = ("new", "open", "pending", "on_hold")
PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}


def open_load(session: Session, agent_ids: list[int]) -> dict[int, int]:
    """Unsolved tickets per agent."""
    rows = session.execute(
        select(Ticket.assignee_id, func.count()).where(Ticket.assignee_id.in_(agent_ids),
                                                       Ticket.status.in_(UNSOLVED)).group_by(Ticket.assignee_id)
    ).all()
    return {agent_id: 0 for agent_id in agent_ids} | dict(rows)  # type: ignore[arg-type]


def pick_agent(session: Session, ticket: Ticket) -> User | None:
    """The agent automatic assignment would choose, or None when nobody fits."""
    if ticket.group is None:
        return None
    fitting = [a for a in ticket.group.members if a.is_agent and a.active and a.available and fits(a, ticket)]
    if not fitting:
        return None
    load = open_load(session, [a.id for a in fitting])
    free = [a for a in fitting if load[a.id] < (a.capacity or 0)]
    if not free:
        return None
    return min(free, key=lambda a: (load[a.id], a.last_assigned_at or datetime.min, a.id))


def auto_assign(session: Session, ticket: Ticket, *, now: datetime) -> User | None:
    """Assign a new ticket of an auto-assigning group; does nothing when nobody fits."""
    if ticket.assignee_id is not None or ticket.group is None or not ticket.group.auto_assign:
        return None
    agent = pick_agent(session, ticket)
    if agent is None:
        return None
    _set_assignee(session, ticket, agent, actor=None, now=now)
    agent.last_assigned_at = now
    return agent


def assign_by_rule(session: Session, ticket: Ticket, agent: User | None, *, now: datetime) -> User | None:
    """A business rule gives the ticket to `agent`, or (None) to whoever automatic assignment picks in the
    ticket's group, whether or not that group assigns automatically. Returns the assignee, or None when
    nobody fits. No person acted: the event names none."""
    if agent is None:
        agent = pick_agent(session, ticket)
        if agent is None or agent.id == ticket.assignee_id:
            return agent
        agent.last_assigned_at = now
    elif not (agent.is_agent and agent.active):
        raise Invalid(N_("Choose an active agent."), field="assignee")
    _set_assignee(session, ticket, agent, actor=None, now=now)
    return agent


def take(session: Session, ticket: Ticket, *, actor: User, now: datetime,
         expected_version: int | None = None) -> list[TicketEvent]:
    """An agent takes a ticket, except from a guided group's queue (admins may): see tickets.take."""
    events = tickets.take(session, ticket, actor=actor, now=now, expected_version=expected_version)
    sla.refresh(session, ticket, now)
    return events


def assign_to(session: Session, ticket: Ticket, agent: User | None, *, actor: User, now: datetime,
              expected_version: int | None = None, solving: bool = False) -> None:
    """Give the ticket to an agent (None: nobody), as `assignment_rules.check_assign` allows; `solving`: the
    ticket is solved in the same step (a problem's incidents)."""
    _require_agent(actor)
    tickets.check_version(ticket, expected_version)
    if agent is not None and not (agent.is_agent and agent.active):
        raise Invalid(N_("Choose an active agent."), field="assignee")
    if ticket.status == "closed":
        raise Invalid(N_("This ticket is closed: nothing can change it; create a follow-up instead."))
    assignment_rules.check_assign(ticket, agent, actor=actor, solving=solving)
    _set_assignee(session, ticket, agent, actor=actor, now=now)


def assign_group(session: Session, ticket: Ticket, group: Group | None, *, actor: User | None, now: datetime,
                 expected_version: int | None = None, kind: str = "group_changed") -> None:
    """Move the ticket to a group. An assignee who is not in it lets go; auto-assignment may then pick one."""
    if actor is not None:
        _require_agent(actor)
    tickets.check_version(ticket, expected_version)
    if ticket.status == "closed":
        raise Invalid(N_("This ticket is closed: nothing can change it; create a follow-up instead."))
    if (group.id if group else None) == ticket.group_id:
        return
    assignment_rules.check_move(ticket, group, actor=actor)
    session.add(TicketEvent(ticket=ticket, actor=actor, created_at=now, kind=kind, field="group_id",
                            old_value=_str(ticket.group_id), new_value=_str(group.id if group else None)))
    ticket.group = group
    ticket.group_id = group.id if group else None
    if ticket.assignee is not None and (group is None or ticket.assignee not in group.members):
        _set_assignee(session, ticket, None, actor=actor, now=now)
    else:
        _touch(ticket, now)
    auto_assign(session, ticket, now=now)


def set_available(session: Session, agent: User, available: bool, *, now: datetime) -> None:
    """An agent says they are available (auto-assignment may pick them) or away."""
    _require_agent(agent)
    agent.available = available


def next_ticket(session: Session, agent: User, *, now: datetime) -> Ticket | None:
    """The most urgent unassigned ticket of the agent's groups that the agent fits (its language and its
    category's skill, as automatic assignment asks), now theirs; None when no such ticket waits.

    The query only reads tickets the agent fits (`assignment_rules.fitting_tickets`), so a queue full of
    tickets they cannot work does not hide the one they can; `fits` is checked again before the claim."""
    _require_agent(agent)
    group_ids = select(group_members.c.group_id).where(group_members.c.user_id == agent.id)
    rank = case(PRIORITY_RANK, value=Ticket.priority, else_=9)
    candidates = session.scalars(
        select(Ticket.id).outerjoin(Category, Category.id == Ticket.category_id)
        .where(Ticket.group_id.in_(group_ids), Ticket.assignee_id.is_(None), Ticket.status.in_(UNSOLVED),
               not_postponed(now), assignment_rules.fitting_tickets(agent.skills or []))
        .order_by(Ticket.sla_due_at.is_(None), Ticket.sla_due_at, rank, Ticket.created_at, Ticket.id).limit(20)
    ).all()
    for ticket_id in candidates:
        candidate = session.get(Ticket, ticket_id)
        if candidate is None or not fits(agent, candidate):
            continue
        if claim(session, ticket_id, agent, now=now):
            ticket = candidate
            session.refresh(ticket)
            session.add(TicketEvent(ticket=ticket, actor=agent, created_at=now, kind="assigned",
                                    field="assignee_id", new_value=str(agent.id)))
            if ticket.status == "new":
                tickets.change_status(session, ticket, Action.TAKE, actor=agent, role=tickets.role_of(agent),
                                      now=now)
            sla.refresh(session, ticket, now)
            return ticket
    return None


def waiting_beyond_skills(session: Session, agent: User) -> int:
    """Unassigned tickets of the agent's groups that need a skill or language the agent lacks: when "Next
    ticket" finds nothing, the agent is told these wait for someone else, not that the queue is empty."""
    group_ids = select(group_members.c.group_id).where(group_members.c.user_id == agent.id)
    return session.scalar(
        select(func.count()).select_from(Ticket).outerjoin(Category, Category.id == Ticket.category_id)
        .where(Ticket.group_id.in_(group_ids), Ticket.assignee_id.is_(None), Ticket.status.in_(UNSOLVED),
               ~assignment_rules.fitting_tickets(agent.skills or []))) or 0


def claim(session: Session, ticket_id: int, agent: User, *, now: datetime) -> bool:
    """Assign only if still unassigned: of two agents claiming at once, exactly one succeeds."""
    result = session.execute(
        update(Ticket).where(Ticket.id == ticket_id, Ticket.assignee_id.is_(None))
        .values(assignee_id=agent.id, version=Ticket.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _set_assignee(session: Session, ticket: Ticket, agent: User | None, *, actor: User | None,
                  now: datetime) -> None:
    new_id = agent.id if agent else None
    if new_id == ticket.assignee_id:
        return
    session.add(TicketEvent(ticket=ticket, actor=actor, created_at=now, kind="assigned", field="assignee_id",
                            old_value=_str(ticket.assignee_id), new_value=_str(new_id)))
    ticket.assignee = agent
    ticket.assignee_id = new_id
    _touch(ticket, now)
    if agent is not None and (actor is None or actor.id != agent.id):
        _notify(session, agent, ticket, now)


def _touch(ticket: Ticket, now: datetime) -> None:
    ticket.updated_at = now
    ticket.version += 1


def _notify(session: Session, agent: User, ticket: Ticket, now: datetime) -> None:
    try:
        from portal.services import agent_notifications
    except ImportError:
        return
    notify = getattr(agent_notifications, "notify", None)
    if notify is not None:
        notify(session, agent, "assigned", ticket, now=now)


def _require_agent(user: User) -> None:
    if not user.is_agent:
        raise NotAllowed(N_("Only agents can do this."))


def _str(value: object) -> str | None:
    return None if value is None else str(value)
