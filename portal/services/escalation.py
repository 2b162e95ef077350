"""Support tiers: escalate a ticket to the next tier's group (1 → 2 → 3) or back, with a private note saying why.

The status does not change (the status table's ESCALATE / DE_ESCALATE cells say who may); the ticket keeps its
conversation and history, records a `group_changed` event, and an assignee outside the new group lets go.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from portal.errors import N_, Invalid
from portal.models import Group, Ticket, User
from portal.services import assignment, tickets
from portal.status import Action

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def current_tier(ticket: Ticket) -> int:
    """The tier the ticket sits in; a ticket outside the tier groups counts as before tier 1."""
    return ticket.group.tier if ticket.group is not None and ticket.group.tier else 0


def tier_group(session: Session, tier: int) -> Group | None:
    return session.scalar(select(Group).where(Group.tier == tier).order_by(Group.id).limit(1))


def escalate(session: Session, ticket: Ticket, *, note: str, actor: User, now: datetime,
             expected_version: int | None = None) -> Group:
    """Move the ticket one tier up; the note (required) tells the next tier what was tried."""
    target = tier_group(session, current_tier(ticket) + 1)
    if target is None:
        raise Invalid(N_("There is no higher tier to escalate to."), field="note")
    _move(session, ticket, target, Action.ESCALATE, note=note, actor=actor, now=now,
          expected_version=expected_version)
    return target


def de_escalate(session: Session, ticket: Ticket, *, note: str, actor: User, now: datetime,
                expected_version: int | None = None) -> Group:
    """Send the ticket one tier down, with a note."""
    tier = current_tier(ticket)
    target = tier_group(session, tier - 1) if tier > 1 else None
    if target is None:
        raise Invalid(N_("This ticket is already in the first tier."), field="note")
    _move(session, ticket, target, Action.DE_ESCALATE, note=note, actor=actor, now=now,
          expected_version=expected_version)
    return target


def _move(session: Session, ticket: Ticket, target: Group, action: Action, *, note: str, actor: User,
          now: datetime, expected_version: int | None) -> None:
    tickets.check_version(ticket, expected_version)
    if not (note or "").strip():
        raise Invalid(N_("Write a private note for the next tier: what you found and what you tried."),
                      field="note")
    tickets.change_status(session, ticket, action, actor=actor, role=tickets.role_of(actor), now=now)
    tickets.add_note(session, ticket, body=note, actor=actor, now=now)
    assignment.assign_group(session, ticket, target, actor=actor, now=now)
