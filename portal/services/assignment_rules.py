"""Who may work a ticket, and who may say so: the one rule every path that sets an assignee or moves a ticket
out of its group asks (Take, the side panel, bulk assign, the API, escalation, "Next ticket").

An agent *fits* a ticket when they have every skill it needs: its language, and its category's skill when it
has one (`required_skills`). Automatic assignment and "Next ticket" only ever give a ticket to an agent who
fits it.

A *guided* group hands out its tickets itself, in order, with "Next ticket": its agents do not choose which of
its tickets they work. So, for a ticket whose group is guided:

- an admin may assign it to any active agent or to nobody, and move it to any group (the override);
- an agent may let go of a ticket that is theirs (assign it to nobody), hand it to another member of the group
  who fits it, or move it to another group;
- an agent may not take, assign (to themselves or anyone) or move a ticket of the group that is not theirs,
  whether unassigned or someone else's;
- solving a problem with its incidents assigns an unassigned incident to the agent who solves it: the ticket
  is finished in the same step, not picked to be worked (`solving=True`).

Outside guided groups every agent may assign and move tickets as before. Refusals are `NotAllowed` (403)
with a message that says what to do instead; they never depend on which view asked.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, and_, or_

from portal.errors import N_, NotAllowed
from portal.models import Category, Group, Ticket, User


def required_skills(ticket: Ticket) -> set[str]:
    """The skills an agent needs to work the ticket: its language, and its category's skill when it has one."""
    skills = {ticket.language} if ticket.language else set()
    skill = getattr(ticket.category, "skill", None) if ticket.category else None
    if skill:
        skills.add(skill)
    return skills


def fits(agent: User, ticket: Ticket) -> bool:
    """The agent has every skill the ticket needs."""
    return required_skills(ticket) <= set(agent.skills or [])


def fitting_tickets(skills: Iterable[str]) -> ColumnElement[bool]:
    """`fits` as SQL, for a query that selects from tickets outer-joined to their category: the tickets an agent
    with these skills can work. The same rule as `required_skills`; "Next ticket" checks `fits` again on the
    ticket it is about to hand out."""
    skills = sorted(set(skills))
    return and_(or_(Ticket.language.is_(None), Ticket.language == "", Ticket.language.in_(skills)),
                or_(Category.skill.is_(None), Category.skill == "", Category.skill.in_(skills)))


def is_guided(ticket: Ticket) -> bool:
    return ticket.group is not None and bool(ticket.group.guided)


def may_choose_assignee(ticket: Ticket, actor: User) -> bool:
    """The actor may pick the ticket's assignee freely (the side panel offers every agent)."""
    return not is_guided(ticket) or actor.is_admin


def may_hand_over(ticket: Ticket, actor: User) -> bool:
    """The actor holds a guided group's ticket and may let go of it or hand it to a fitting member."""
    return is_guided(ticket) and not actor.is_admin and ticket.assignee_id == actor.id


def check_assign(ticket: Ticket, assignee: User | None, *, actor: User, solving: bool = False) -> None:
    """Raise NotAllowed when `actor` may not make `assignee` (None: nobody) the ticket's assignee."""
    new_id = assignee.id if assignee is not None else None
    if not is_guided(ticket) or actor.is_admin or new_id == ticket.assignee_id:
        return
    group = ticket.group
    assert group is not None  # is_guided
    if solving and ticket.assignee_id is None and new_id == actor.id:
        return
    if ticket.assignee_id != actor.id:
        raise NotAllowed(N_("The group %(group)s hands out tickets in order: use “Next ticket” instead."),
                         group=group.name)
    if assignee is not None and not (assignee in group.members and fits(assignee, ticket)):
        raise NotAllowed(N_("%(agent)s cannot take this ticket: the group %(group)s hands its tickets only to "
                            "its members with the skills they need (%(skills)s)."),
                         agent=assignee.name, group=group.name, skills=", ".join(sorted(required_skills(ticket))))


def check_move(ticket: Ticket, group: Group | None, *, actor: User | None) -> None:
    """Raise NotAllowed when `actor` may not move the ticket out of its guided group (None: the system)."""
    if actor is None or actor.is_admin or not is_guided(ticket) or ticket.assignee_id == actor.id:
        return
    if (group.id if group is not None else None) == ticket.group_id:
        return
    raise NotAllowed(N_("The group %(group)s hands out tickets in order: only the ticket's assignee or an admin "
                        "can move it to another group."), group=ticket.group.name)  # type: ignore[union-attr]
