"""Password-reset links: signed, expiring, and good for one use, without a table of tokens.

The token carries the user's id and a fingerprint of their current password. Setting a new password
changes the fingerprint, so the link that was used (and every older one) stops working.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy.orm import Session

from portal.models import User
from portal.services import accounts
from portal.services.account_links import AccountLinks, InvalidLink

SALT = "mesa.password-reset"
InvalidResetToken = InvalidLink


class ResetTokens(AccountLinks):
    def __init__(self, secret_key: str, max_age: int) -> None:
        super().__init__(secret_key, max_age, salt=SALT, fingerprint=fingerprint)

    def user_for(self, session: Session, token: str, *, now: datetime) -> User:
        """The active user the link was made for, while it is younger than `max_age` and still unused."""
        return self.load(session, token, now=now)[0]


def fingerprint(user: User) -> str:
    """Changes whenever the password (or the e-mail it was sent to) changes."""
    changed = user.password_changed_at.isoformat() if user.password_changed_at else ""
    material = f"{user.password_hash or ''}|{changed}|{user.email}"
    return hashlib.sha256(material.encode()).hexdigest()[:24]


def reset_password(session: Session, tokens: ResetTokens, token: str, password: str, *, now: datetime) -> User:
    """Someone who received the link chooses a new password; the link is spent by doing so. Receiving it also
    proves the address is theirs, so an account made for them by an e-mail they sent is claimed this way."""
    user = tokens.user_for(session, token, now=now)
    accounts.set_password(session, user, password, now=now)
    user.verified = True
    return user
