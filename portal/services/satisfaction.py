"""Customer satisfaction (CSAT): the requester rates a solved ticket Good or Bad, with a comment.

The rating can be changed while the ticket is solved, and for `WINDOW_DAYS` after it is closed. Only the
requester rates; for anyone else the ticket does not exist.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.errors import N_, Invalid, NotAllowed, NotFound
from portal.models import RATINGS, SatisfactionRating, Ticket, TicketEvent, User

WINDOW_DAYS = 7
MAX_COMMENT = 2000


def ticket_of_requester(session: Session, ref: str, actor: User) -> Ticket:
    """The ticket, when `actor` asked for it; otherwise NotFound, as for a ticket that does not exist."""
    ticket = session.scalar(select(Ticket).where(Ticket.ref == ref))
    if ticket is None or actor is None or ticket.requester_id != actor.id:
        raise NotFound(N_("We could not find that ticket."))
    return ticket


def window_open(ticket: Ticket, *, now: datetime) -> bool:
    """Solved, or closed less than WINDOW_DAYS ago."""
    if ticket.status == "solved":
        return True
    if ticket.status == "closed" and ticket.closed_at is not None:
        return now <= ticket.closed_at + timedelta(days=WINDOW_DAYS)
    return False


def rating_for(session: Session, ticket: Ticket) -> SatisfactionRating | None:
    return session.scalar(select(SatisfactionRating).where(SatisfactionRating.ticket_id == ticket.id))


def rate(
    session: Session, ticket: Ticket, *, rating: str, comment: str | None, actor: User, now: datetime
) -> SatisfactionRating:
    """The requester says how we did. A second rating replaces the first while the window is open."""
    if actor is None or ticket.requester_id != actor.id:
        raise NotFound(N_("We could not find that ticket."))
    if rating not in RATINGS:
        raise Invalid(N_("Choose Good or Bad."), field="rating")
    comment = (comment or "").strip() or None
    if comment is not None and len(comment) > MAX_COMMENT:
        raise Invalid(N_("Use at most %(max)s characters."), field="comment", max=MAX_COMMENT)
    if not window_open(ticket, now=now):
        raise NotAllowed(N_("This ticket can no longer be rated."))
    existing = rating_for(session, ticket)
    old = existing.rating if existing else None
    if existing is None:
        existing = SatisfactionRating(ticket=ticket, author_id=actor.id, created_at=now)
        session.add(existing)
    existing.rating, existing.comment, existing.updated_at = rating, comment, now
    session.add(TicketEvent(ticket=ticket, actor_id=actor.id, created_at=now, kind="satisfaction_rated",
                            field="satisfaction", old_value=old, new_value=rating))
    session.flush()
    return existing
