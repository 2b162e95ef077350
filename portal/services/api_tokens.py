"""Personal API tokens: made and revoked by their owner in the profile, checked on every API call.

A token is `mesa_` followed by a random secret. Only its SHA-256 is stored: a stolen database does not give
anyone access, and the secret is shown once, when it is made. A token acts as its owner, with the owner's
role, so a customer's token reaches only that customer's tickets.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from portal.errors import N_, Invalid, LimitExceeded, NotFound
from portal.models import ApiToken, User

TOKEN_PREFIX = "mesa_"  # noqa: S105 - a marker that makes leaked tokens recognisable, not a secret
NAME_MAX = 80
MAX_ACTIVE_TOKENS = 20
# Recording every call would write to the database on every request; a minute is precise enough to tell
# a token in use from a forgotten one.
LAST_USE_PRECISION = timedelta(minutes=1)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create(session: Session, *, name: str, actor: User, now: datetime) -> tuple[ApiToken, str]:
    """A new token for the actor. Returns the row and the secret, which is never available again."""
    name = " ".join((name or "").split())
    if not name:
        raise Invalid(N_("Give the token a name, so you know later what uses it."), field="name")
    if len(name) > NAME_MAX:
        raise Invalid(N_("Use at most %(max)s characters."), field="name", max=NAME_MAX)
    if len(active_tokens(session, actor)) >= MAX_ACTIVE_TOKENS:
        raise LimitExceeded(N_("You can have at most %(count)s tokens. Revoke one you no longer use first."),
                            field="name", count=MAX_ACTIVE_TOKENS)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=actor, name=name, token_hash=hash_secret(secret), prefix=secret[:12], created_at=now)
    session.add(token)
    session.flush()
    return token, secret


def active_tokens(session: Session, user: User) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                                .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def revoke(session: Session, token_id: int, *, actor: User, now: datetime) -> ApiToken:
    """The owner withdraws a token: every later call with it is refused. Someone else's token is NotFound."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != actor.id or token.revoked_at is not None:
        raise NotFound(N_("We could not find that token."))
    token.revoked_at = now
    return token


def revoke_all(session: Session, user: User, *, now: datetime) -> int:
    """Withdraw every token the person still has (their account is deactivated). Returns how many."""
    tokens = active_tokens(session, user)
    for token in tokens:
        token.revoked_at = now
    return len(tokens)


def authenticate(session: Session, secret: str | None) -> ApiToken | None:
    """The active token with this secret whose owner may still log in, or None."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_secret(secret))
                           .options(joinedload(ApiToken.user)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    return token


def record_use(token: ApiToken, *, now: datetime) -> bool:
    """Remember when the token was last used (to the minute). True when the row changed."""
    if token.last_used_at is not None and now - token.last_used_at < LAST_USE_PRECISION:
        return False
    token.last_used_at = now
    return True
