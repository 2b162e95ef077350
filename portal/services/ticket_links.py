"""Signed links in ticket e-mails: confirm or reopen a solved ticket, and rate it, without logging in.

A link is an itsdangerous token signed with the app's secret key and a salt of its own, so a link of one
kind is never accepted as another. It names the ticket and its requester, and expires. An action link is
also tied to the solution it was sent for (`solved_at`): once the ticket has been confirmed, reopened or
solved again, the old link no longer acts. A forged or altered token is reported exactly like a ticket
that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.errors import N_, DomainError, NotFound
from portal.models import RATINGS, Ticket

ACTION_SALT = "mesa.ticket-link"
RATING_SALT = "mesa.satisfaction-link"
LINK_ACTIONS = ("confirm", "reopen")


class LinkExpired(DomainError):
    """A genuine link that is too old, or whose solution has been answered already."""

    status_code = 400


@dataclass(frozen=True)
class ActionLink:
    ticket: Ticket
    action: str


@dataclass(frozen=True)
class RatingLink:
    ticket: Ticket
    rating: str


class TicketLinks:
    def __init__(self, secret_key: str, *, max_age: timedelta) -> None:
        self.max_age = max_age
        self._actions = URLSafeTimedSerializer(secret_key, salt=ACTION_SALT)
        self._ratings = URLSafeTimedSerializer(secret_key, salt=RATING_SALT)

    def action_token(self, ticket: Ticket, action: str) -> str:
        if action not in LINK_ACTIONS:
            raise ValueError(f"unknown link action {action!r}")
        return str(self._actions.dumps({"t": ticket.ref, "u": ticket.requester_id, "a": action,
                                        "s": _stamp(ticket.solved_at)}))

    def rating_token(self, ticket: Ticket, rating: str) -> str:
        if rating not in RATINGS:
            raise ValueError(f"unknown rating {rating!r}")
        return str(self._ratings.dumps({"t": ticket.ref, "u": ticket.requester_id, "r": rating}))

    def action_link(self, session: Session, token: str, *, now: datetime) -> ActionLink:
        """The ticket and action a link was made for, while it is fresh and its solution unanswered."""
        payload = self._load(self._actions, token, now=now)
        action = payload.get("a")
        if action not in LINK_ACTIONS:
            raise NotFound(N_("This link is not valid."))
        ticket = _ticket(session, payload)
        if ticket.status != "solved" or payload.get("s") != _stamp(ticket.solved_at):
            raise LinkExpired(N_("This link has already been used."))
        return ActionLink(ticket, str(action))

    def rating_link(self, session: Session, token: str, *, now: datetime) -> RatingLink:
        payload = self._load(self._ratings, token, now=now)
        rating = payload.get("r")
        if rating not in RATINGS:
            raise NotFound(N_("This link is not valid."))
        return RatingLink(_ticket(session, payload), str(rating))

    def _load(self, serializer: URLSafeTimedSerializer, token: str, *, now: datetime) -> dict:
        try:
            payload, signed_at = serializer.loads(token, return_timestamp=True)
        except BadSignature as exc:
            raise NotFound(N_("This link is not valid.")) from exc
        if not isinstance(payload, dict):
            raise NotFound(N_("This link is not valid."))
        if now.replace(tzinfo=UTC) - signed_at > self.max_age:
            raise LinkExpired(N_("This link has expired."))
        return payload


def _ticket(session: Session, payload: dict) -> Ticket:
    ref, requester_id = payload.get("t"), payload.get("u")
    ticket = session.scalar(select(Ticket).where(Ticket.ref == str(ref))) if isinstance(ref, str) else None
    if ticket is None or ticket.requester_id != requester_id:
        raise NotFound(N_("This link is not valid."))
    return ticket


def _stamp(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
