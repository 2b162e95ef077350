"""Accounts: creating people, checking passwords."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from portal.errors import Invalid
from portal.models import ROLES, User

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
# Checked against when the e-mail is unknown, so both failures take the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    password: str | None,
    role: str = "customer",
    locale: str | None = None,
    now: datetime,
) -> User:
    """A new account. E-mail addresses are unique whatever their case."""
    if role not in ROLES:
        raise Invalid(f"Unknown role {role!r}")
    if find_by_email(session, email) is not None:
        raise Invalid("An account with this e-mail already exists.", field="email")
    if password is not None:
        check_password_rules(password)
    user = User(
        email=normalise_email(email),
        name=name.strip(),
        role=role,
        locale=locale,
        password_hash=generate_password_hash(password) if password else None,
        created_at=now,
        password_changed_at=now,
    )
    session.add(user)
    session.flush()
    return user


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"Use at least {MIN_PASSWORD_LENGTH} characters.", field="password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise Invalid(f"Use at most {MAX_PASSWORD_LENGTH} characters.", field="password")


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None: callers cannot tell which part was wrong."""
    user = find_by_email(session, email)
    if user is None or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def set_password(session: Session, user: User, password: str, *, now: datetime) -> None:
    check_password_rules(password)
    user.password_hash = generate_password_hash(password)
    user.password_changed_at = now
