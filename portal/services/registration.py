"""Signing up as a customer: the account works once its owner confirms the address from the link we e-mail.

The form answers every address the same way ("check your e-mail"), so it never tells who has an account:
a new address gets the confirmation link, an address with an account gets a note telling its owner.
Until confirmed, the account cannot log in. Signing up again with an address that awaits confirmation changes
nothing and sends the link again: what a second sign-up typed is never kept, so a stranger who signs up after the
owner cannot slip their password in before the owner confirms. Confirming proves the address and sets the
password (and name) that the person who confirms types there, so a stranger who signed up first cannot keep the
account either: their password never becomes the account's unless they read the owner's mailbox.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from portal.models import User
from portal.services import accounts
from portal.services.account_links import AccountLinks
from portal.services.person_names import check_name

SALT = "mesa.confirm-address"


@dataclass(frozen=True)
class SignUp:
    user: User
    # True: `user` awaits confirmation, send it the link. False: the address already had an account, tell its
    # owner (the caller answers the visitor exactly as for a new address).
    awaits_confirmation: bool


def fingerprint(user: User) -> str:
    """Changes when the account is confirmed (or its password set by a reset): every link works once."""
    material = f"{user.password_hash or ''}|{user.verified}|{user.email}"
    return hashlib.sha256(material.encode()).hexdigest()[:24]


class ConfirmationLinks(AccountLinks):
    def __init__(self, secret_key: str, max_age: int) -> None:
        super().__init__(secret_key, max_age, salt=SALT, fingerprint=fingerprint)


def awaits_confirmation(user: User) -> bool:
    """Signed up on the portal (it has a password) and never confirmed. Accounts made for an e-mail or a phone
    call have no password: their owner claims them with a password reset instead."""
    return bool(user.password_hash) and not user.verified and user.role == "customer"


def sign_up(session: Session, *, email: str, name: str, password: str, locale: str | None, now: datetime) -> SignUp:
    existing = accounts.find_by_email(session, email)
    if existing is None:
        user = accounts.create_user(session, email=email, name=name, password=password, locale=locale, now=now)
        user.verified = False
        return SignUp(user, awaits_confirmation=True)
    check_password_hash(accounts.DUMMY_HASH, password)  # about the time a new account's password hash takes
    # An address awaiting confirmation gets its link again; nothing typed here is kept (see the module's text).
    return SignUp(existing, awaits_confirmation=awaits_confirmation(existing) and existing.active)


def confirm(
    session: Session, user: User, link: dict, *, name: str, password: str, locale: str | None, now: datetime
) -> str | None:
    """Someone who received the link (`ConfirmationLinks.load` gave its account and values) finishes the sign-up:
    the password and name they type here are the account's from now on, whatever any sign-up typed, and the
    account works. Returns where the sign-up was going."""
    user.name = check_name(name)
    accounts.set_password(session, user, password, now=now)
    user.locale = locale
    user.verified = True
    next_target = link.get("next")
    return next_target if isinstance(next_target, str) else None
