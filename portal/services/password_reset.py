"""Password-reset links: signed, expiring, and good for one use, without a table of tokens.

The token carries the user's id and a fingerprint of their current password. Setting a new password
changes the fingerprint, so the link that was used (and every older one) stops working.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from portal.errors import N_, DomainError
from portal.models import User
from portal.services import accounts

SALT = "mesa.password-reset"


class InvalidResetToken(DomainError):
    """Expired, already used, for a deactivated account, or not ours: the person asks for a new link."""

    status_code = 400


class ResetTokens:
    def __init__(self, secret_key: str, max_age: int) -> None:
        self.max_age = max_age
        self._serializer = URLSafeTimedSerializer(secret_key, salt=SALT)

    def make(self, user: User) -> str:
        return self._serializer.dumps({"u": user.id, "f": fingerprint(user)})

    def user_for(self, session: Session, token: str, *, now: datetime) -> User:
        """The active user the link was made for, while it is younger than `max_age` and still unused."""
        try:
            payload, signed_at = self._serializer.loads(token, return_timestamp=True)
        except (BadSignature, SignatureExpired) as exc:
            raise InvalidResetToken(N_("This link is not valid.")) from exc
        age = now.replace(tzinfo=UTC) - signed_at
        if age > timedelta(seconds=self.max_age):
            raise InvalidResetToken(N_("This link has expired."))
        if not isinstance(payload, dict) or not isinstance(payload.get("u"), int):
            raise InvalidResetToken(N_("This link is not valid."))
        user = session.get(User, payload["u"])
        if user is None or not user.active or not hmac.compare_digest(str(payload.get("f")), fingerprint(user)):
            raise InvalidResetToken(N_("This link has already been used."))
        return user


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
