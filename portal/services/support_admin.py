"""Administration of the support operation: groups and tiers, agents' skills and capacity, customer plans,
categories and their custom fields, SLA policies and business calendars. Admins only; never commits."""

from __future__ import annotations

import re
from datetime import date, time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select

from portal.errors import N_, Invalid, NotFound
from portal.models import (
    FIELD_KINDS,
    PLANS,
    PRIORITIES,
    BusinessCalendar,
    Category,
    CustomField,
    Group,
    Holiday,
    SlaPolicy,
    User,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

_SKILL = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise NotFound(N_("We could not find that page."))


def skills_from(text: str | None) -> list[str]:
    """"billing, ES , devices" -> ["billing", "devices", "es"]; refuses odd words."""
    skills = sorted({s.strip().lower() for s in (text or "").replace(";", ",").split(",") if s.strip()})
    bad = [s for s in skills if not _SKILL.match(s)]
    if bad:
        raise Invalid(N_("Skills are short words separated by commas, e.g. billing, es."), field="skills")
    return skills


def get(session: Session, model: type, ident: int, *, actor: User):
    _require_admin(actor)
    found = session.get(model, ident)
    if found is None:
        raise NotFound(N_("We could not find that page."))
    return found


# ---- Groups ---------------------------------------------------------------------------------------------


def groups(session: Session, *, actor: User) -> list[Group]:
    _require_admin(actor)
    return list(session.scalars(select(Group).order_by(Group.tier.is_(None), Group.tier, Group.name)))


def save_group(session: Session, group: Group | None, *, name: str, tier: int | None, skills: str,
               auto_assign: bool, guided: bool, actor: User) -> Group:
    _require_admin(actor)
    name = " ".join((name or "").split())
    if not name:
        raise Invalid(N_("Give the group a name."), field="name")
    if tier is not None and tier not in (1, 2, 3):
        raise Invalid(N_("The tier is 1, 2 or 3 (or none for a skill group)."), field="tier")
    clash = session.scalar(select(Group).where(func.lower(Group.name) == name.lower()))
    if clash is not None and clash is not group:
        raise Invalid(N_("Another group already has this name."), field="name")
    if group is None:
        group = Group(name=name)
        session.add(group)
    group.name, group.tier, group.skills = name, tier, skills_from(skills)
    group.auto_assign, group.guided = auto_assign, guided
    return group


def set_default_group(session: Session, group_id: int | None, *, actor: User) -> Group | None:
    """Tickets that arrive without a group (a mail, an API call or a phone call without a category) go to this
    group from now on, and are assigned automatically when it does that; None: they wait in no group's queue.
    Tickets already filed stay where they are."""
    _require_admin(actor)
    group = session.get(Group, group_id) if group_id is not None else None
    if group_id is not None and group is None:
        raise Invalid(N_("Choose one of the groups."), field="default_group")
    for other in session.scalars(select(Group).where(Group.is_default.is_(True))):
        if other is not group:
            other.is_default = False
    session.flush()  # the old default lets go first: at most one group is the default (a unique index)
    if group is not None:
        group.is_default = True
    return group


def set_members(session: Session, group: Group, member_ids: list[int], *, actor: User) -> None:
    _require_admin(actor)
    people = session.scalars(select(User).where(User.id.in_(member_ids), User.role.in_(("agent", "admin")))).all()
    group.members = sorted(people, key=lambda u: u.name)


def agents(session: Session, *, actor: User) -> list[User]:
    _require_admin(actor)
    return list(session.scalars(select(User).where(User.role.in_(("agent", "admin"))).order_by(User.name)))


def update_agent(session: Session, agent: User, *, skills: str, capacity: int | None, available: bool,
                 actor: User) -> None:
    _require_admin(actor)
    if not agent.is_agent:
        raise NotFound(N_("We could not find that page."))
    if capacity is None or not 0 <= capacity <= 1000:
        raise Invalid(N_("Capacity is a number of open tickets from 0 to 1000."), field="capacity")
    agent.skills, agent.capacity, agent.available = skills_from(skills), capacity, available


def set_plan(session: Session, email: str, plan: str, *, actor: User) -> User:
    _require_admin(actor)
    if plan not in PLANS:
        raise Invalid(N_("Choose one of the plans."), field="plan")
    person = session.scalar(select(User).where(User.email == (email or "").strip().lower()))
    if person is None:
        raise Invalid(N_("Nobody has this e-mail address."), field="email")
    person.plan = plan
    return person


def premium_customers(session: Session, *, actor: User) -> list[User]:
    _require_admin(actor)
    return list(session.scalars(select(User).where(User.plan != "standard").order_by(User.name).limit(500)))


# ---- Categories and custom fields -----------------------------------------------------------------------


def categories(session: Session, *, actor: User) -> list[Category]:
    _require_admin(actor)
    return list(session.scalars(select(Category).order_by(Category.position, Category.id)))


def save_category(session: Session, category: Category | None, *, name_en: str, name_es: str, group_id: int | None,
                  skill: str, position: int | None, active: bool, actor: User) -> Category:
    _require_admin(actor)
    name_en, name_es = (name_en or "").strip(), (name_es or "").strip()
    if not name_en:
        raise Invalid(N_("Give the category a name."), field="name_en")
    if group_id is not None and session.get(Group, group_id) is None:
        raise Invalid(N_("Choose one of the groups."), field="group_id")
    skills = skills_from(skill)
    if len(skills) > 1:
        raise Invalid(N_("A category needs at most one skill."), field="skill")
    if category is None:
        category = Category(name_en=name_en, name_es=name_es or name_en)
        session.add(category)
    category.name_en, category.name_es = name_en, name_es or name_en
    category.group_id, category.skill = group_id, (skills[0] if skills else None)
    category.position, category.active = position or 0, active
    return category


def add_field(session: Session, category: Category, *, key: str, label_en: str, label_es: str, kind: str,
              required: bool, options: str, actor: User) -> CustomField:
    _require_admin(actor)
    key = (key or "").strip().lower()
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", key):
        raise Invalid(N_("The key is a short identifier: lower-case letters, digits and _."), field="key")
    if any(f.key == key for f in category.fields):
        raise Invalid(N_("This category already has a field with this key."), field="key")
    if kind not in FIELD_KINDS:
        raise Invalid(N_("Choose one of the field kinds."), field="kind")
    if not (label_en or "").strip():
        raise Invalid(N_("Give the field a label."), field="label_en")
    choices = [o.strip() for o in (options or "").split(",") if o.strip()]
    if kind == "select" and not choices:
        raise Invalid(N_("A list needs its options, separated by commas."), field="options")
    field = CustomField(key=key, label_en=label_en.strip(), label_es=(label_es or label_en).strip(), kind=kind,
                        required=required, options=choices if kind == "select" else [],
                        position=len(category.fields), active=True)
    category.fields.append(field)
    return field


def set_field_active(session: Session, field: CustomField, active: bool, *, actor: User) -> None:
    """Fields are switched off, not deleted: old tickets keep their answers."""
    _require_admin(actor)
    field.active = active


# ---- SLA policies and calendars ---------------------------------------------------------------------------


def policies(session: Session, *, actor: User) -> list[SlaPolicy]:
    _require_admin(actor)
    rank = {p: i for i, p in enumerate(reversed(PRIORITIES))}
    found = session.scalars(select(SlaPolicy)).all()
    return sorted(found, key=lambda p: (PLANS.index(p.plan) if p.plan in PLANS else 9, rank.get(p.priority, 9)))


def save_policy(session: Session, *, priority: str, plan: str, first_reply: int | None, next_reply: int | None,
                resolution: int | None, business_hours: bool, calendar_id: int | None, actor: User) -> SlaPolicy:
    """Create or replace the policy for this priority and plan (targets in minutes; empty: no target)."""
    _require_admin(actor)
    if priority not in PRIORITIES:
        raise Invalid(N_("Choose one of the priorities offered."), field="priority")
    if plan not in PLANS:
        raise Invalid(N_("Choose one of the plans."), field="plan")
    for name, value in (("first_reply", first_reply), ("next_reply", next_reply), ("resolution", resolution)):
        if value is not None and not 1 <= value <= 60 * 24 * 365:
            raise Invalid(N_("Targets are minutes, at least 1."), field=name)
    if calendar_id is not None and session.get(BusinessCalendar, calendar_id) is None:
        raise Invalid(N_("Choose one of the calendars."), field="calendar_id")
    policy = session.scalar(select(SlaPolicy).where(SlaPolicy.priority == priority, SlaPolicy.plan == plan))
    if policy is None:
        policy = SlaPolicy(priority=priority, plan=plan)
        session.add(policy)
    policy.first_reply_minutes, policy.next_reply_minutes = first_reply, next_reply
    policy.resolution_minutes, policy.business_hours = resolution, business_hours
    policy.calendar_id = calendar_id if business_hours else None
    return policy


def delete_policy(session: Session, policy: SlaPolicy, *, actor: User) -> None:
    _require_admin(actor)
    session.delete(policy)


def calendars(session: Session, *, actor: User) -> list[BusinessCalendar]:
    _require_admin(actor)
    return list(session.scalars(select(BusinessCalendar).order_by(BusinessCalendar.name)))


def save_calendar(session: Session, calendar: BusinessCalendar | None, *, name: str, timezone: str,
                  hours: dict[int, tuple[str, str]], actor: User) -> BusinessCalendar:
    """`hours`: weekday (0 = Monday) -> ("09:00", "18:00"); a weekday left out is closed."""
    _require_admin(actor)
    name = " ".join((name or "").split())
    if not name:
        raise Invalid(N_("Give the calendar a name."), field="name")
    try:
        ZoneInfo(timezone or "")
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(N_("Use a time zone name such as Europe/Madrid."), field="timezone") from None
    clean: dict[str, list[str]] = {}
    for day, (start, end) in hours.items():
        try:
            opens, closes = time.fromisoformat(start), time.fromisoformat(end)
        except ValueError:
            raise Invalid(N_("Hours look like 09:00."), field=f"day{day}") from None
        if opens >= closes:
            raise Invalid(N_("A day's hours must end after they start."), field=f"day{day}")
        clean[str(day)] = [opens.strftime("%H:%M"), closes.strftime("%H:%M")]
    clash = session.scalar(select(BusinessCalendar).where(BusinessCalendar.name == name))
    if clash is not None and clash is not calendar:
        raise Invalid(N_("Another calendar already has this name."), field="name")
    if calendar is None:
        calendar = BusinessCalendar(name=name)
        session.add(calendar)
    calendar.name, calendar.timezone, calendar.hours = name, timezone, clean
    return calendar


def add_holiday(session: Session, calendar: BusinessCalendar, *, day: date | None, name: str,
                actor: User) -> Holiday:
    _require_admin(actor)
    if day is None:
        raise Invalid(N_("Choose the day."), field="day")
    if any(h.day == day for h in calendar.holidays):
        raise Invalid(N_("This day is already a holiday."), field="day")
    holiday = Holiday(day=day, name=(name or "").strip()[:80])
    calendar.holidays.append(holiday)
    return holiday


def remove_holiday(session: Session, holiday: Holiday, *, actor: User) -> None:
    _require_admin(actor)
    session.delete(holiday)
