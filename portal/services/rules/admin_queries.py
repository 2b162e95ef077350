"""What the rules' admin pages read besides the rules themselves: the choices the editor offers for each kind of
value (groups, active agents, categories, webhooks, custom fields, shared macros), the recent tickets a rule can
be tried on, and the audit trail one page at a time. Admins only, like `manage`; nothing here writes."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from portal.models import Category, CustomField, Group, Macro, Rule, RuleChange, Ticket, User, WebhookEndpoint
from portal.pagination import PageNumbers
from portal.services.rules.manage import require_admin

Choices = list[tuple[str, str]]


def editor_choices(session: Session, *, actor: User, lang: str) -> dict[str, Choices]:
    """(value, label) pairs for each kind of value the catalog names by id or key, in the admin's language.

    Only what a rule may still name: active agents (the engine cannot assign to someone who left) and active
    custom fields; every group, category and webhook (an inactive category can still be set by a rule)."""
    require_admin(actor)
    agents = session.scalars(select(User).where(User.role.in_(("agent", "admin")), User.active.is_(True))
                             .order_by(func.lower(User.name), User.id))
    categories = session.scalars(select(Category).order_by(Category.position, Category.name_en, Category.id))
    fields = session.scalars(select(CustomField).where(CustomField.active.is_(True))
                             .options(joinedload(CustomField.category))
                             .order_by(CustomField.key, CustomField.category_id))
    field_keys: dict[str, str] = {}
    for custom in fields:  # one key may be asked in several categories: offered once
        field_keys.setdefault(custom.key, f"{custom.label(lang)} ({custom.key})")
    return {
        "group": [(str(g.id), g.name) for g in session.scalars(select(Group).order_by(func.lower(Group.name)))],
        "agent": [(str(u.id), f"{u.name} <{u.email}>") for u in agents],
        "category": [(str(c.id), c.name(lang)) for c in categories],
        "webhook": [(str(w.id), w.description or w.url)
                    for w in session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id))],
        "field_key": sorted(field_keys.items(), key=lambda pair: pair[1].lower()),
        # Shared macros only: a personal one is its owner's tool, never a rule's.
        "macro": [(str(m.id), m.title) for m in session.scalars(
            select(Macro).where(Macro.owner_id.is_(None)).order_by(func.lower(Macro.title), Macro.id))],
    }


def recent_tickets(session: Session, *, actor: User, limit: int = 20) -> list[Ticket]:
    """The newest tickets, to try a rule on one without typing its reference."""
    require_admin(actor)
    return list(session.scalars(select(Ticket).order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit)))


@dataclass
class ChangesPage(PageNumbers):
    items: list[RuleChange]
    total: int
    page: int
    per_page: int


def changes_page(session: Session, *, actor: User, page: int = 1, per_page: int = 50,
                 rule_id: int | None = None) -> ChangesPage:
    """The audit trail, newest first, one page at a time: who created, edited, switched, moved, imported or
    deleted which rule (of one rule when `rule_id` is given)."""
    require_admin(actor)
    query = select(RuleChange)
    counted = select(func.count()).select_from(RuleChange)
    if rule_id is not None:
        query = query.where(RuleChange.rule_id == rule_id)
        counted = counted.where(RuleChange.rule_id == rule_id)
    total = session.scalar(counted) or 0
    last_page = max(1, -(-total // per_page))
    page = min(max(1, page), last_page)
    items = list(session.scalars(query.options(joinedload(RuleChange.actor))
                                 .order_by(RuleChange.at.desc(), RuleChange.id.desc())
                                 .limit(per_page).offset((page - 1) * per_page)))
    return ChangesPage(items=items, total=total, page=page, per_page=per_page)


def switched_off(session: Session, *, actor: User) -> list[Rule]:
    """The rules Mesa switched off because they failed or looped (not those an admin switched off), newest first:
    the admin area shows them until each is corrected and switched on again, or deleted."""
    require_admin(actor)
    return list(session.scalars(select(Rule).where(Rule.enabled.is_(False), Rule.disabled_reason.is_not(None))
                                .order_by(Rule.updated_at.desc(), Rule.id.desc())))
