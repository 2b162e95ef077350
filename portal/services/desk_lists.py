"""The agent desk's short lists: the active agents, the groups and tiers, the categories, each agent's groups,
and the custom status labels.

Every queue page and workspace offers them in its selects, sidebar and operations panel: four to six queries
and a few dozen ORM objects a page, though only an admin's edit changes them. They are kept per process as
plain snapshots (services.kept): dropped at once when this process commits a change to users, groups,
categories or custom statuses; other processes see such a change within `max_age`, as they see the queue
counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from portal.models import Category, CustomStatus, Group, User, group_members
from portal.services.kept import Kept

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@dataclass(frozen=True, slots=True)
class Named:
    """An agent or a group, as a select shows it."""

    id: int
    name: str


@dataclass(frozen=True, slots=True)
class CategoryName:
    id: int
    name_en: str
    name_es: str | None
    active: bool = True  # offered: the side panel's choices are these (and the ticket's own)

    name = Category.name  # the model's own choice of language, on the same two columns


@dataclass(frozen=True, slots=True)
class StatusLabel:
    """A custom status: an agent-facing label inside a core status."""

    id: int
    status: str
    label_en: str
    label_es: str | None

    label = CustomStatus.label  # the model's own choice of language, on the same two columns


@dataclass(frozen=True)
class Lists:
    agents: tuple[Named, ...]  # active agents and admins, by name
    groups: tuple[Named, ...]  # by name
    categories: tuple[CategoryName, ...]  # retired ones too: old tickets keep theirs
    memberships: dict[int, tuple[Named, ...]]  # an agent's id: their groups, by name
    tiers: dict[int, Named]  # a tier: its group (the first made, as escalation.tier_group)
    labels: tuple[StatusLabel, ...]  # the active ones, in their order

    def groups_of(self, agent_id: int) -> tuple[Named, ...]:
        return self.memberships.get(agent_id, ())

    def labels_for(self, status: str) -> list[StatusLabel]:
        return [label for label in self.labels if label.status == status]


def read(session: Session) -> Lists:
    agents = tuple(Named(*row) for row in session.execute(
        select(User.id, User.name).where(User.role.in_(("agent", "admin")), User.active.is_(True))
        .order_by(User.name)))
    groups, tiers = [], {}
    for group_id, name, tier in session.execute(select(Group.id, Group.name, Group.tier).order_by(Group.name)):
        groups.append(Named(group_id, name))
        if tier is not None and (tier not in tiers or group_id < tiers[tier].id):
            tiers[tier] = groups[-1]
    categories = tuple(CategoryName(*row) for row in session.execute(
        select(Category.id, Category.name_en, Category.name_es, Category.active)
        .order_by(Category.position, Category.name_en)))
    by_id = {group.id: group for group in groups}
    memberships: dict[int, list[Named]] = {}
    for user_id, group_id in session.execute(select(group_members.c.user_id, group_members.c.group_id)):
        if group_id in by_id:  # a group made between the two reads waits for the next one
            memberships.setdefault(user_id, []).append(by_id[group_id])
    labels = tuple(StatusLabel(*row) for row in session.execute(
        select(CustomStatus.id, CustomStatus.status, CustomStatus.label_en, CustomStatus.label_es)
        .where(CustomStatus.active.is_(True)).order_by(CustomStatus.position, CustomStatus.id)))
    return Lists(agents, tuple(groups), categories,
                 {user_id: tuple(sorted(mine, key=lambda g: g.name)) for user_id, mine in memberships.items()},
                 tiers, labels)


class DeskLists(Kept[Lists]):
    def __init__(self, max_age: timedelta) -> None:
        super().__init__(max_age, (User, Group, Category, CustomStatus))

    def current(self, session: Session, *, now: datetime) -> Lists:
        return self.get(None, lambda: read(session), now=now)
