"""The business rules the demo ships (issue 18), so that a new installation shows what rules do: a mail about
a bill lands in the Billing queue with its category, and a customer who writes "urgent" or "outage" gets a
higher priority. They are added once, on a database that has never had a rule but the default automations (no
other rule and no trace of one in the rules' audit trail), so an admin who edits or deletes them keeps their
choice on every `make run`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from portal.demo.people import BILLING
from portal.models import Category, Group, Rule, RuleChange, User
from portal.services.rules import manage

BILLING_CATEGORY = "Billing and payments"
# Words, not phrases: "direct debit" would be two words, and "direct" alone is no billing question.
BILLING_WORDS = ("invoice, invoices, bill, billing, refund, charged, payment, debit, factura, facturas, facturación, "
                 "cobro, cobrado, reembolso, pago, recibo, domiciliación")
URGENT_WORDS = "urgent, urgently, outage, emergency, asap, urgente, urgencia, caída, emergencia"


def ensure_rules(session: Session, *, now: datetime) -> int:
    """Add the demo's rules to a database that never had one; returns how many it added."""
    # The default automations the migrations install (services.rules.defaults) do not count: they are Mesa's.
    installed = select(RuleChange.rule_id).where(RuleChange.what == "installed", RuleChange.rule_id.isnot(None))
    if session.scalar(select(exists().where(Rule.id.not_in(installed)))) or \
            session.scalar(select(exists().where(RuleChange.what != "installed"))):
        return 0
    admin = session.scalar(select(User).where(User.role == "admin", User.active.is_(True)).order_by(User.id))
    billing = session.scalar(select(Group).where(Group.name == BILLING))
    category = session.scalar(select(Category).where(Category.name_en == BILLING_CATEGORY))
    if admin is None or billing is None or category is None:
        return 0
    rules = [
        {"name": "Billing questions go to Billing", "events": ["ticket_created"],
         "conditions_all": [{"field": "category", "op": "absent"},
                            {"field": "subject_or_description", "op": "contains_any_word", "value": BILLING_WORDS}],
         "conditions_any": [],
         "actions": [{"type": "set_category", "value": category.id}, {"type": "set_group", "value": billing.id}]},
        {"name": "Urgent words raise the priority", "events": ["ticket_created", "customer_replied"],
         "conditions_all": [{"field": "priority", "op": "below", "value": "high"},
                            {"field": "subject_or_description", "op": "contains_any_word", "value": URGENT_WORDS}],
         "conditions_any": [],
         "actions": [{"type": "set_priority", "value": "high"}, {"type": "add_tags", "value": ["urgent"]}]},
    ]
    for data in rules:
        manage.create_rule(session, data, actor=admin, now=now)
    return len(rules)
