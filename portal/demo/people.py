"""The demo's people and teams at Alto Fibra, created once and then left alone."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Group, User
from portal.services import accounts

# Public on purpose: printed by `make run` and in the README. Never used outside the demo accounts.
DEMO_PASSWORD = "mesa-demo-2026"  # noqa: S105

TIER_1 = "Tier 1 — Front line"
TIER_2 = "Tier 2 — Technical"
TIER_3 = "Tier 3 — Network engineering"
BILLING = "Billing"
SPANISH_DESK = "Spanish desk"


@dataclass(frozen=True)
class GroupSpec:
    name: str
    tier: int | None = None
    skills: tuple[str, ...] = ()
    default: bool = False  # receives the tickets that arrive without a group (a mail, an API call)


@dataclass(frozen=True)
class Person:
    email: str
    name: str
    role: str = "customer"
    locale: str | None = None
    skills: tuple[str, ...] = ()
    groups: tuple[str, ...] = field(default=())


GROUPS = (
    GroupSpec(TIER_1, tier=1, default=True),
    GroupSpec(TIER_2, tier=2),
    GroupSpec(TIER_3, tier=3),
    GroupSpec(BILLING, skills=("billing",)),
    GroupSpec(SPANISH_DESK, skills=("es",)),
)

PEOPLE = (
    Person("alice@example.com", "Alice Martin", locale="en"),
    Person("bob@example.com", "Bob Navarro", locale="en"),
    Person("lucia@example.com", "Lucía Fernández", locale="es"),
    Person("javier@example.com", "Javier Romero", locale="es"),
    Person("marta@example.com", "Marta Soler", locale="es"),
    Person("carmen@example.com", "Carmen Ruiz", locale="es"),
    Person("priya@example.com", "Priya Shah", locale="en"),
    Person("greta@example.com", "Greta Lindqvist", locale="en"),
    Person("agnes@example.com", "Agnes Moreau", role="agent", locale="en",
           skills=("billing", "en", "es"), groups=(TIER_1, BILLING, SPANISH_DESK)),
    Person("diego@example.com", "Diego Alvarez", role="agent", locale="en",
           skills=("connection", "devices", "en"), groups=(TIER_2,)),
    Person("tomas@example.com", "Tomás Ibáñez", role="agent", locale="es",
           skills=("network", "en", "es"), groups=(TIER_3, SPANISH_DESK)),
    Person("admin@example.com", "Ada Admin", role="admin", locale="en"),
)


def ensure_groups(session: Session, *, now: datetime) -> tuple[dict[str, Group], set[str]]:
    """Every demo group by name, and the names of those created now (existing ones are not touched). The front
    line is the default group, so a new mail lands in its queue, unless an admin already chose another."""
    existing = {g.name: g for g in session.scalars(select(Group).where(Group.name.in_([s.name for s in GROUPS])))}
    created: set[str] = set()
    has_default = session.scalar(select(Group.id).where(Group.is_default.is_(True)).limit(1)) is not None
    for spec in GROUPS:
        if spec.name not in existing:
            existing[spec.name] = Group(name=spec.name, tier=spec.tier, skills=list(spec.skills), created_at=now,
                                        is_default=spec.default and not has_default)
            session.add(existing[spec.name])
            created.add(spec.name)
    session.flush()
    return existing, created


def ensure_people(
    session: Session, groups: dict[str, Group], new_groups: set[str], *, now: datetime
) -> tuple[dict[str, User], set[str]]:
    """Every demo account by e-mail, and the e-mails created now.

    An account that already exists keeps its password, skills and groups: only what is created in this
    run is set up, so an admin's later changes survive every `make run`.
    """
    users: dict[str, User] = {}
    created: set[str] = set()
    for person in PEOPLE:
        user = accounts.find_by_email(session, person.email)
        if user is None:
            user = accounts.create_user(
                session, email=person.email, name=person.name, password=DEMO_PASSWORD,
                role=person.role, locale=person.locale, now=now,
            )
            user.skills = list(person.skills)
            created.add(person.email)
        for name in person.groups:
            group = groups[name]
            if (person.email in created or name in new_groups) and user not in group.members:
                group.members.append(user)
        users[person.email] = user
    session.flush()
    return users, created
