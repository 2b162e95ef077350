"""Accounts: creating people, checking passwords, profiles, and what admins may change."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from portal.errors import N_, Invalid, NotAllowed, NotFound
from portal.models import ROLES, User
from portal.services import api_tokens
from portal.services.person_names import check_name

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
# Checked against when the e-mail is unknown, so both failures take the same time.
DUMMY_HASH = generate_password_hash("not-a-real-password")


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
        raise Invalid(N_("Unknown role %(role)s."), role=role)
    if find_by_email(session, email) is not None:
        raise Invalid(N_("An account with this e-mail already exists."), field="email")
    name = check_name(name)  # names go into mail headers: one line of text (services.person_names)
    if password is not None:
        check_password_rules(password)
    user = User(
        email=normalise_email(email),
        name=name,
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
        raise Invalid(N_("Use at least %(min)s characters."), min=MIN_PASSWORD_LENGTH, field="password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise Invalid(N_("Use at most %(max)s characters."), max=MAX_PASSWORD_LENGTH, field="password")


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None: callers cannot tell which part was wrong."""
    user = find_by_email(session, email)
    if user is None or not user.password_hash:
        check_password_hash(DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def set_password(session: Session, user: User, password: str, *, now: datetime) -> None:
    """A new password ends every session made with the old one (whoever knew it is logged out everywhere); the
    caller logs the person who set it in again if they stay."""
    check_password_rules(password)
    user.password_hash = generate_password_hash(password)
    user.password_changed_at = now
    end_sessions(user)


# `User.get_id()`: "<id>:<generation>". Bounded, so a value that is not ours never reaches the database.
_SESSION_ID = re.compile(r"([0-9]{1,12}):([0-9]{1,12})", re.ASCII)


def end_sessions(user: User) -> None:
    """Every session the person has stops working at its next request, on every device: logging out does this
    (login sessions are signed cookies, so a copy of one kept elsewhere dies only this way), and so do a new
    password, deactivation and a role change."""
    user.session_generation = (user.session_generation or 0) + 1


def session_user(session: Session, session_id: str) -> User | None:
    """The active person a login session names (`User.get_id`), while no session-ending change happened since."""
    match = _SESSION_ID.fullmatch(session_id or "")
    if match is None:
        return None
    user = session.get(User, int(match.group(1)))
    if user is None or not user.active or (user.session_generation or 0) != int(match.group(2)):
        return None
    return user


def update_profile(session: Session, user: User, *, name: str, locale: str | None, actor: User, now: datetime) -> None:
    """People change their own name and language; the language then wins over the browser's."""
    if actor.id != user.id:
        raise NotAllowed(N_("Only the account's owner changes its profile."))
    user.name = check_name(name)
    user.locale = locale or None


def change_password(
    session: Session, user: User, *, current_password: str, new_password: str, actor: User, now: datetime
) -> None:
    """A logged-in person proves they know the current password before choosing a new one."""
    if actor.id != user.id:
        raise NotAllowed(N_("Only the account's owner changes its password this way."))
    if not user.password_hash or not check_password_hash(user.password_hash, current_password):
        raise Invalid(N_("The current password is not right."), field="current_password")
    set_password(session, user, new_password, now=now)


def list_users(
    session: Session, *, search: str = "", role: str | None = None, limit: int = 50, offset: int = 0, actor: User
) -> tuple[list[User], int]:
    """Admins look people up by name or e-mail, optionally one role at a time, newest first."""
    _require_admin(actor)
    query = select(User)
    if search.strip():
        pattern = f"%{_escape_like(search.strip().lower())}%"
        query = query.where(
            or_(func.lower(User.name).like(pattern, escape="\\"), User.email.like(pattern, escape="\\"))
        )
    if role in ROLES:
        query = query.where(User.role == role)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    users = session.scalars(query.order_by(User.created_at.desc(), User.id.desc()).limit(limit).offset(offset))
    return list(users), total


def count_by_role(session: Session, *, actor: User) -> dict[str, int]:
    _require_admin(actor)
    counts = dict(session.execute(select(User.role, func.count()).where(User.active).group_by(User.role)).all())
    return {role: counts.get(role, 0) for role in ROLES}


def create_by_admin(
    session: Session,
    *,
    email: str,
    name: str,
    role: str,
    locale: str | None,
    password: str | None,
    actor: User,
    now: datetime,
) -> User:
    """Admins create agents, admins and customers; without a password the person sets one from an e-mailed link."""
    _require_admin(actor)
    return create_user(session, email=email, name=name, password=password, role=role, locale=locale, now=now)


def set_active(session: Session, user: User, active: bool, *, actor: User, now: datetime) -> None:
    """A deactivated person can no longer log in, and nothing they were logged in with works again, even once
    reactivated: their sessions end and their API tokens are revoked (they make new ones).
    Admins cannot deactivate themselves, so there is always someone left to undo it."""
    _require_admin(actor)
    if user.id == actor.id and not active:
        raise NotAllowed(N_("You cannot deactivate your own account."))
    if user.active and not active:
        end_sessions(user)
        api_tokens.revoke_all(session, user, now=now)
    user.active = active


def change_role(session: Session, user: User, role: str, *, actor: User, now: datetime) -> None:
    _require_admin(actor)
    if role not in ROLES:
        raise Invalid(N_("Unknown role %(role)s."), role=role, field="role")
    if user.id == actor.id and role != user.role:
        raise NotAllowed(N_("You cannot change your own role."))
    if role != user.role:
        end_sessions(user)  # pages open with the old role's rights stop working; the person logs in again
    user.role = role


def get_user(session: Session, user_id: int, *, actor: User) -> User:
    _require_admin(actor)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(N_("No such user."))
    return user


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise NotAllowed(N_("Only admins manage accounts."))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
