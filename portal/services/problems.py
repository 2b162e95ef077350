"""Repeated incidents and duplicates.

A problem ticket groups incidents (`Ticket.problem_id`): similar open tickets are suggested for linking; a
public update on the problem reaches every linked requester (an agent reply on each incident), and solving the
problem solves its incidents with the same message. A duplicate from the same requester is merged into another
ticket: its conversation moves there and the source closes (MERGE) with a pointer message.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from portal.errors import N_, Invalid
from portal.models import Ticket, TicketEvent, User
from portal.search import terms
from portal.services import assignment, tickets
from portal.status import Action

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

OPEN = ("new", "open", "pending", "on_hold")
SUGGEST_WITHIN = timedelta(days=30)
CANDIDATES_PER_STATUS = 500


def suggest(session: Session, ticket: Ticket, *, now: datetime, limit: int = 5) -> list[Ticket]:
    """Open tickets active in the last 30 days whose subjects share words with this one, most similar first;
    problems (tickets others already point at) come first on a tie.

    Words are compared the way the knowledge-base search compares them (its stemming and accent folding,
    in each ticket's language), among the most recently active open tickets: repeated incidents arrive
    together, and reading a bounded, indexed slice keeps this fast with a million tickets."""
    mine = terms(ticket.subject, ticket.language)
    if not mine:
        return []
    rows: list[Ticket] = []
    for status in OPEN:
        rows += session.scalars(
            select(Ticket).where(Ticket.status == status, Ticket.updated_at >= now - SUGGEST_WITHIN,
                                 Ticket.id != ticket.id, Ticket.problem_id.is_(None))
            .order_by(Ticket.updated_at.desc()).limit(CANDIDATES_PER_STATUS)).all()
    scored = [(len(mine & terms(t.subject, t.language)), t) for t in rows]
    scored = [(shared, t) for shared, t in scored if shared >= min(2, len(mine))]
    problem_ids = set(session.scalars(select(Ticket.problem_id).where(
        Ticket.problem_id.in_([t.id for _, t in scored])))) if scored else set()
    scored.sort(key=lambda s: (s[0], s[1].id in problem_ids, s[1].created_at), reverse=True)
    return [t for _, t in scored[:limit]]


def incidents(session: Session, problem: Ticket) -> list[Ticket]:
    return list(session.scalars(select(Ticket).where(Ticket.problem_id == problem.id).order_by(Ticket.id)))


def link(session: Session, incident: Ticket, problem: Ticket, *, actor: User, now: datetime) -> None:
    """Mark `incident` as one more occurrence of `problem`."""
    _require_agent(actor)
    if incident.id == problem.id:
        raise Invalid(N_("A ticket cannot be its own problem."), field="problem")
    if problem.problem_id is not None:
        raise Invalid(N_("%(ref)s is itself linked to a problem: link to that one instead."), field="problem",
                      ref=problem.ref)
    if problem.status == "closed" or incident.status == "closed":
        raise Invalid(N_("Closed tickets cannot be linked."), field="problem")
    if session.scalar(select(func.count()).where(Ticket.problem_id == incident.id)):
        raise Invalid(N_("%(ref)s is a problem with incidents of its own."), field="problem", ref=incident.ref)
    if incident.problem_id == problem.id:
        return
    session.add(TicketEvent(ticket=incident, actor=actor, created_at=now, kind="problem_linked",
                            field="problem_id", old_value=incident.problem.ref if incident.problem else None,
                            new_value=problem.ref))
    incident.problem = problem
    incident.problem_id = problem.id
    incident.updated_at = now
    incident.version += 1


def unlink(session: Session, incident: Ticket, *, actor: User, now: datetime) -> None:
    _require_agent(actor)
    if incident.problem_id is None:
        return
    session.add(TicketEvent(ticket=incident, actor=actor, created_at=now, kind="problem_unlinked",
                            field="problem_id", old_value=incident.problem.ref if incident.problem else None))
    incident.problem = None
    incident.problem_id = None
    incident.updated_at = now
    incident.version += 1


def update_all(session: Session, problem: Ticket, *, body: str, solve: bool = False, actor: User,
               now: datetime) -> list[Ticket]:
    """A public update on the problem and on each open linked incident (each requester gets it by e-mail);
    with `solve`, all of them are solved with this message. Returns the incidents that were updated."""
    _require_agent(actor)
    body = tickets.check_body(body)
    if problem.status == "closed":
        raise Invalid(N_("This ticket is closed: nothing can change it; create a follow-up instead."))
    updated = []
    for ticket in [problem, *incidents(session, problem)]:
        if ticket.status == "closed":
            continue
        if solve and ticket.assignee_id is None:
            assignment.assign_to(session, ticket, actor, actor=actor, now=now, solving=True)
        tickets.agent_reply(session, ticket, body=body, public=True, submit_as="solved" if solve else None,
                            actor=actor, now=now)
        if ticket is not problem:
            updated.append(ticket)
    return updated


def merge(session: Session, source: Ticket, target: Ticket, *, pointer: str, actor: User, now: datetime,
          expected_version: int | None = None) -> None:
    """Merge a duplicate into `target` (same requester): the conversation moves, the source closes with
    `pointer` (a public message in the source's language naming the target)."""
    _require_agent(actor)
    tickets.check_version(source, expected_version)
    if source.id == target.id:
        raise Invalid(N_("Choose another ticket to merge into."), field="target")
    if source.requester_id != target.requester_id:
        raise Invalid(N_("Only tickets from the same requester can be merged."), field="target")
    if target.status == "closed":
        raise Invalid(N_("%(ref)s is closed: merge into an open ticket."), field="target", ref=target.ref)
    tickets.change_status(session, source, Action.MERGE, actor=actor, role=tickets.role_of(actor), now=now)
    for message in list(source.messages):
        message.ticket = target
    session.add(TicketEvent(ticket=target, actor=actor, created_at=now, kind="merged_in", field="ticket",
                            new_value=source.ref))
    session.add(TicketEvent(ticket=source, actor=actor, created_at=now, kind="merged_into", field="ticket",
                            new_value=target.ref))
    for incident in incidents(session, source):
        incident.problem_id = target.id
    tickets.add_message(session, source, body=pointer, author=actor, public=True, now=now)
    target.updated_at = now
    target.version += 1


def _require_agent(user: User) -> None:
    if not user.is_agent:
        from portal.errors import NotFound

        raise NotFound(N_("We could not find that ticket."))
