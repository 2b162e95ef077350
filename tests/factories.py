"""Test data with sensible defaults: say only what matters to the test."""

from __future__ import annotations

import itertools

from sqlalchemy.orm import Session

from portal.clock import utcnow
from portal.services import accounts

DEFAULT_PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)


class Factory:
    def __init__(self, session: Session) -> None:
        self.session = session

    def user(self, *, email: str | None = None, name: str | None = None, role: str = "customer",
             password: str = DEFAULT_PASSWORD, locale: str | None = None):
        n = next(_counter)
        user = accounts.create_user(
            self.session,
            email=email or f"person{n}@example.com",
            name=name or f"Person {n}",
            password=password,
            role=role,
            locale=locale,
            now=utcnow(),
        )
        self.session.commit()
        return user

    # ---- Tickets (customer side) ----

    def category(self, *, name: str = "Connection problems", name_es: str | None = None, group=None,
                 fields: tuple[dict, ...] = (), active: bool = True, position: int = 0):
        """A category; `fields` are CustomField keyword dicts (key, label_en, kind, required, options)."""
        from portal.models import Category, CustomField

        category = Category(name_en=name, name_es=name_es or name, group=group, active=active, position=position)
        for index, spec in enumerate(fields):
            spec = {"label_es": spec.get("label_en", spec["key"]), "label_en": spec["key"], "kind": "text",
                    "required": False, "options": [], "position": index, "active": True, **spec}
            category.fields.append(CustomField(**spec))
        self.session.add(category)
        self.session.commit()
        return category

    def ticket(self, *, requester=None, subject: str | None = None, description: str = "It does not work.",
               status: str = "new", assignee=None, category=None, priority: str = "normal", language: str = "en",
               field_values: dict | None = None, now=None):
        """A ticket filed through the service, then put in `status` as the status machine would leave it
        (solved and closed ones have an assignee, solved_at and closed_at)."""
        from portal.services import tickets

        now = now or utcnow()
        requester = requester or self.user()
        n = next(_counter)
        ticket = tickets.create_ticket(
            self.session, requester=requester, subject=subject or f"Problem {n}", description=description,
            category=category, priority=priority, language=language, field_values=field_values, actor=requester,
            now=now,
        ).ticket
        if status != "new" or assignee is not None:
            if status in ("solved", "closed") and assignee is None:
                assignee = self.user(role="agent")
            ticket.assignee = assignee
            ticket.status = status
            if status in ("solved", "closed"):
                ticket.solved_at = now
            if status == "closed":
                ticket.closed_at = now
        self.session.commit()
        return ticket

    def default_automations(self, now=None) -> list:
        """The default automations as migration c6e2f4a8b411 installs them: after the existing rules, made by
        no person, each with a rule_changes row "installed"."""
        from sqlalchemy import func, select

        from portal.models import Rule, RuleChange
        from portal.services.rules import manage
        from portal.services.rules.defaults import default_automations

        now = now or utcnow()
        position = self.session.scalar(select(func.max(Rule.position))) or 0
        made = []
        for data in default_automations():
            position += 1
            rule = Rule(**data, position=position, created_at=now, updated_at=now, version=1)
            self.session.add(rule)
            self.session.flush()
            self.session.add(RuleChange(rule_id=rule.id, rule_name=rule.name, actor_id=None, at=now,
                                        what="installed", snapshot=manage.snapshot(rule)))
            made.append(rule)
        self.session.commit()
        return made
