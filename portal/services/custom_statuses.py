"""Custom statuses: agent-facing labels inside a core status ("Waiting for vendor" in on hold). Customers never
see them; the status machine ignores them; a change of core status clears the label (tickets.change_status)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from portal.errors import N_, Invalid, NotFound
from portal.models import CustomStatus, Ticket, TicketEvent, User
from portal.services import tickets
from portal.status import Status

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def for_status(session: Session, status: str) -> list[CustomStatus]:
    return list(session.scalars(select(CustomStatus).where(CustomStatus.status == status,
                                                           CustomStatus.active.is_(True))
                                .order_by(CustomStatus.position, CustomStatus.id)))


def all_statuses(session: Session, *, actor: User) -> list[CustomStatus]:
    _require(actor, admin=True)
    order = {s.value: i for i, s in enumerate(Status)}
    found = session.scalars(select(CustomStatus)).all()
    return sorted(found, key=lambda c: (order.get(c.status, 9), c.position, c.id))


def create(session: Session, *, status: str, label_en: str, label_es: str, actor: User) -> CustomStatus:
    _require(actor, admin=True)
    if status not in {s.value for s in Status} or status == Status.CLOSED.value:
        raise Invalid(N_("Choose the core status this label belongs to."), field="status")
    label_en = " ".join((label_en or "").split())
    if not label_en or len(label_en) > 60:
        raise Invalid(N_("Give the label a name of at most 60 characters."), field="label_en")
    custom = CustomStatus(status=status, label_en=label_en, label_es=" ".join((label_es or label_en).split())[:60],
                          active=True, position=len(for_status(session, status)))
    session.add(custom)
    return custom


def set_active(session: Session, custom: CustomStatus, active: bool, *, actor: User) -> None:
    _require(actor, admin=True)
    custom.active = active


def set_for(session: Session, ticket: Ticket, custom_status_id: int | None, *, actor: User, now: datetime,
            expected_version: int | None = None) -> None:
    """Give the ticket a label of its current status (None: the plain status)."""
    _require(actor)
    tickets.check_version(ticket, expected_version)
    custom = session.get(CustomStatus, custom_status_id) if custom_status_id else None
    if custom_status_id and (custom is None or not custom.active or custom.status != ticket.status):
        raise Invalid(N_("This label does not belong to the ticket's status."), field="custom_status")
    if ticket.custom_status_id == custom_status_id:
        return
    old = ticket.custom_status
    session.add(TicketEvent(ticket=ticket, actor=actor, created_at=now, kind="custom_status_changed",
                            field="custom_status_id", old_value=old.label_en if old else None,
                            new_value=custom.label_en if custom else None))
    ticket.custom_status = custom
    ticket.custom_status_id = custom.id if custom else None
    ticket.updated_at = now
    ticket.version += 1


def _require(actor: User, *, admin: bool = False) -> None:
    if not (actor.is_admin if admin else actor.is_agent):
        raise NotFound(N_("We could not find that page."))
