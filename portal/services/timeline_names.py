"""The names behind the ids a ticket's timeline stores: people, groups, categories, rules, custom fields.

An event keeps `group_id` 3 or `assignee_id` 12 as text; the agent reads "Billing" and "Agnes". The desk's
kept lists (services.desk_lists) name almost all of them; what they miss (a deactivated agent, the customer
who reopened, a rule) is read once per table for the whole timeline, never once per event. An id that names
nothing any more (a deleted group) is simply absent: the sentence says so in words.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import select

from portal.models import Category, CustomField, Group, Rule, TicketEvent, User

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from portal.services.desk_lists import Lists


@dataclass(frozen=True, slots=True)
class TwoLanguages:
    """A name kept in English and Spanish (a category, a custom field, a custom status)."""

    en: str
    es: str | None = None
    options: tuple[tuple[str, str, str | None], ...] = ()  # a select field's (value, English, Spanish)

    def name(self, lang: str) -> str:
        return self.es if lang == "es" and self.es else self.en

    def option(self, value: str, lang: str) -> str:
        for key, en, es in self.options:
            if key == value:
                return es if lang == "es" and es else en
        return value


@dataclass(frozen=True)
class TimelineNames:
    people: dict[int, str] = field(default_factory=dict)
    groups: dict[int, str] = field(default_factory=dict)
    categories: dict[int, TwoLanguages] = field(default_factory=dict)
    rules: dict[int, str] = field(default_factory=dict)
    fields: dict[str, TwoLanguages] = field(default_factory=dict)  # a custom field's key
    statuses: dict[str, TwoLanguages] = field(default_factory=dict)  # a custom status's English label


def _ids(values: Iterable[str | None]) -> set[int]:
    return {int(v) for v in values if v and v.isdigit()}


def names_for(session: Session, events: list[TicketEvent], lists: Lists, *,
              category_id: int | None = None) -> TimelineNames:
    """Everything the events name, from the kept lists first and at most one query per table after that."""
    people = {a.id: a.name for a in lists.agents}
    groups = {g.id: g.name for g in lists.groups}
    categories = {c.id: TwoLanguages(c.name_en, c.name_es) for c in lists.categories}
    statuses = {s.label_en: TwoLanguages(s.label_en, s.label_es) for s in lists.labels}

    want_people = {e.actor_id for e in events if e.actor_id} | _ids(
        v for e in events if e.field == "assignee_id" for v in (e.old_value, e.new_value))
    if missing := want_people - people.keys():
        people.update(session.execute(select(User.id, User.name).where(User.id.in_(missing))).all())
    want_groups = _ids(v for e in events if e.field == "group_id" for v in (e.old_value, e.new_value))
    if missing := want_groups - groups.keys():
        groups.update(session.execute(select(Group.id, Group.name).where(Group.id.in_(missing))).all())
    want_categories = _ids(v for e in events if e.field == "category_id" for v in (e.old_value, e.new_value))
    if missing := want_categories - categories.keys():
        for row in session.execute(select(Category.id, Category.name_en, Category.name_es)
                                   .where(Category.id.in_(missing))):
            categories[row.id] = TwoLanguages(row.name_en, row.name_es)
    rule_ids = {e.rule_id for e in events if e.rule_id}
    rules = dict(session.execute(select(Rule.id, Rule.name).where(Rule.id.in_(rule_ids))).all()) \
        if rule_ids else {}
    keys = {e.field for e in events if e.kind == "field_changed" and e.field}
    fields: dict[str, TwoLanguages] = {}
    if keys:
        # The ticket's own category's field first: two categories may both ask an "order" field.
        rows = session.scalars(select(CustomField).where(CustomField.key.in_(keys))
                               .order_by((CustomField.category_id == category_id).desc(), CustomField.id))
        for custom in rows:
            if custom.key not in fields:
                options = tuple((str(o.get("value", "")), str(o.get("label_en") or o.get("value", "")),
                                 o.get("label_es")) for o in custom.options or [] if isinstance(o, dict))
                fields[custom.key] = TwoLanguages(custom.label_en, custom.label_es, options)
    return TimelineNames(people, groups, categories, rules, fields, statuses)
