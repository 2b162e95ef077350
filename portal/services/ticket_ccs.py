"""People in copy: other addresses that receive the same e-mails as the requester about one ticket."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.orm import Session

from portal.errors import N_, Invalid, InvalidTransition, LimitExceeded, NotFound
from portal.models import Ticket, TicketCC, TicketEvent, User
from portal.services.accounts import normalise_email
from portal.status import Action, is_terminal

MAX_CCS = 10
EMAIL = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")


def add_cc(session: Session, ticket: Ticket, email: str, *, actor: User, now: datetime) -> TicketCC:
    """The requester (or an agent) keeps someone else informed. Each address once, at most ten, never the
    requester's own, and not on a closed ticket (it no longer changes)."""
    _check_may_change(ticket, actor)
    address = normalise_email(email or "")
    if len(address) > 254 or not EMAIL.match(address):
        raise Invalid(N_("Enter a valid e-mail address."), field="email")
    if ticket.requester is not None and address == ticket.requester.email:
        raise Invalid(N_("You already receive these e-mails."), field="email")
    if any(cc.email == address for cc in ticket.ccs):
        raise Invalid(N_("%(email)s is already in copy."), field="email", email=address)
    if len(ticket.ccs) >= MAX_CCS:
        raise LimitExceeded(N_("A ticket can have at most %(count)s people in copy."), field="email", count=MAX_CCS)
    cc = TicketCC(ticket=ticket, email=address, added_by_id=actor.id, created_at=now)
    session.add(cc)
    session.add(TicketEvent(ticket=ticket, actor=actor, created_at=now, kind="cc_added", field="cc",
                            new_value=address))
    return cc


def remove_cc(session: Session, ticket: Ticket, cc_id: int, *, actor: User, now: datetime) -> str:
    """Stop copying someone; returns the address removed."""
    _check_may_change(ticket, actor)
    cc = next((cc for cc in ticket.ccs if cc.id == cc_id), None)
    if cc is None:
        raise NotFound(N_("That address is not in copy."))
    ticket.ccs.remove(cc)
    session.add(TicketEvent(ticket=ticket, actor=actor, created_at=now, kind="cc_removed", field="cc",
                            old_value=cc.email))
    return cc.email


def _check_may_change(ticket: Ticket, actor: User) -> None:
    if actor.id != ticket.requester_id and not actor.is_agent:
        raise NotFound(N_("We could not find that ticket."))
    if is_terminal(ticket.status):
        raise InvalidTransition(N_("This ticket is closed: nothing can change it; create a follow-up instead."),
                                status=ticket.status, action="cc", allowed=[Action.FOLLOW_UP.value])
