"""Every action a rule can take, seen the way an agent or a customer would see it: the ticket changed, the
timeline says which rule did it, mail is queued in the recipient's language, the webhook is queued."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.clock import utcnow
from portal.models import (
    Group,
    Message,
    Notification,
    RuleFiring,
    SlaPolicy,
    TicketEvent,
    TicketTag,
    WebhookDelivery,
    WebhookEndpoint,
)
from portal.services.rules import manage


@pytest.fixture
def rule(db, admin_user):
    """Make a rule that runs when a ticket is created (by default) and does `actions`."""
    def create(*actions, events=("ticket_created",), conditions=(), name="Routing"):
        made = manage.create_rule(db, {"name": name, "events": list(events), "conditions_all": list(conditions),
                                       "actions": list(actions)}, actor=admin_user, now=utcnow())
        db.commit()
        return made
    return create


def rule_events(db, ticket) -> list[tuple[str, str | None, str | None]]:
    db.expire_all()
    return [(e.kind, e.old_value, e.new_value) for e in db.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.rule_id.is_not(None))
        .order_by(TicketEvent.id))]


def summary(db, ticket) -> str:
    return db.scalar(select(RuleFiring.summary).where(RuleFiring.ticket_id == ticket.id))


def test_set_status_goes_through_the_status_table(db, make, rule, agnes):
    rule({"type": "set_status", "value": "open"})
    ticket = make.ticket()
    assert ticket.status == "open"
    assert rule_events(db, ticket) == [("status_changed", "new", "open")]
    event = db.scalar(select(TicketEvent).where(TicketEvent.rule_id.is_not(None)))
    assert event.actor_id is None and event.rule.name == "Routing"


def test_a_transition_the_table_refuses_is_skipped_not_an_error(db, make, rule):
    rule({"type": "set_status", "value": "solved"}, {"type": "set_priority", "value": "high"})
    ticket = make.ticket()  # solving needs an assignee: refused by the table's guard
    assert ticket.status == "new" and ticket.priority == "high"
    assert "set_status skipped" in summary(db, ticket) and "Assign this ticket" in summary(db, ticket)
    assert manage.get_rule(db, 1, actor=make.user(role="admin")).enabled  # skipping is not failing


def test_set_priority_group_category_language_and_sla_plan(db, make, rule):
    group = Group(name="Tier 2")
    db.add(group)
    category = make.category(name="Billing")
    db.add(SlaPolicy(priority="urgent", plan="standard", first_reply_minutes=600))
    db.add(SlaPolicy(priority="urgent", plan="premium", first_reply_minutes=60))
    db.commit()
    rule({"type": "set_priority", "value": "urgent"}, {"type": "set_group", "value": group.id},
         {"type": "set_category", "value": category.id}, {"type": "set_language", "value": "es"},
         {"type": "set_sla_policy", "value": "premium"})
    ticket = make.ticket(language="en")
    assert (ticket.priority, ticket.group_id, ticket.category_id, ticket.language, ticket.sla_plan) == (
        "urgent", group.id, category.id, "es", "premium")
    assert ticket.sla_due_at == ticket.created_at + timedelta(minutes=60)  # the premium targets, not the standard
    assert rule_events(db, ticket) == [
        ("priority_changed", "normal", "urgent"), ("group_changed", None, str(group.id)),
        ("category_changed", None, str(category.id)), ("language_changed", "en", "es"),
        ("sla_plan_changed", None, "premium")]


def test_set_assignee_to_an_agent_or_automatically_within_the_group(db, make, rule, agnes):
    busy, free = make.user(role="agent", name="Busy"), make.user(role="agent", name="Free")
    busy.skills = free.skills = ["en"]
    group = Group(name="Tier 1", members=[busy, free])
    db.add(group)
    db.commit()
    for _ in range(2):
        make.ticket(assignee=busy, status="open")
    rule({"type": "set_group", "value": group.id}, {"type": "set_assignee", "value": "auto"}, name="Auto")
    auto = make.ticket()
    assert auto.assignee_id == free.id  # the least loaded member, though the group does not assign by itself
    rule({"type": "set_assignee", "value": agnes.id}, events=("ticket_updated",), name="To Agnes",
         conditions=[{"field": "priority", "op": "is", "value": "urgent"}])
    from portal.services import agent_desk

    agent_desk.set_priority(db, auto, "urgent", actor=agnes, now=utcnow())
    db.commit()
    assert auto.assignee_id == agnes.id
    assert rule_events(db, auto)[-1] == ("assigned", str(free.id), str(agnes.id))


def test_set_field_on_the_tickets_category_only(db, make, rule):
    category = make.category(name="Orders", fields=({"key": "order", "label_en": "Order"},))
    rule({"type": "set_field", "field": "order", "value": "PENDING-CHECK"})
    with_field = make.ticket(category=category)
    without = make.ticket()
    assert [v.value for v in with_field.field_values] == ["PENDING-CHECK"]
    assert rule_events(db, with_field) == [("field_changed", None, "PENDING-CHECK")]
    assert without.field_values == [] and "no field order" in summary(db, without)


def test_add_and_remove_tags(db, make, rule):
    rule({"type": "add_tags", "value": "vip billing"}, {"type": "remove_tags", "value": "spam"})
    ticket = make.ticket()
    assert sorted(ticket.tag_names) == ["billing", "vip"]
    rule({"type": "remove_tags", "value": ["vip"]}, events=("ticket_updated",), name="Unvip",
         conditions=[{"field": "priority", "op": "is", "value": "low"}])
    ticket.tags.append(TicketTag(tag="spam"))
    from portal.services import agent_desk

    agent_desk.set_priority(db, ticket, "low", actor=make.user(role="agent"), now=utcnow())
    db.commit()
    assert sorted(ticket.tag_names) == ["billing", "spam"]
    assert rule_events(db, ticket)[-1] == ("tag_removed", "vip", None)


def test_add_note_fills_the_placeholders_and_stays_private(db, make, rule):
    rule({"type": "add_note", "body": "Check {{ ticket.ref }} from {{requester.name}} ({{ rule.name }})."})
    ticket = make.ticket(requester=make.user(name="Ana <b>"))
    note = db.scalar(select(Message).where(Message.ticket_id == ticket.id, Message.public.is_(False)))
    assert note.body == f"Check {ticket.ref} from Ana <b> (Routing)." and note.author_id is None


EMAIL = {"type": "send_email", "to": "requester", "subject_en": "We got {{ ticket.subject }}",
         "body_en": "Hello {{ requester.name }}, see {{ ticket.url }}", "subject_es": "Recibido: {{ ticket.subject }}",
         "body_es": "Hola {{ requester.name }}, mira {{ ticket.url }}"}


def test_send_email_to_the_customer_is_in_the_tickets_language_and_to_an_agent_in_theirs(app, db, make, rule):
    agent = make.user(role="agent", name="Ed", locale="en")
    rule(EMAIL, {**EMAIL, "to": "address", "address": "boss@example.org"}, {"type": "set_assignee", "value": agent.id},
         {**EMAIL, "to": "assignee"}, name="Mail")
    customer = make.user(name="Ana <script>", locale="en")
    ticket = make.ticket(requester=customer, subject="Router <roto>", language="es")
    rows = db.scalars(select(Notification).where(Notification.kind == "rule_email").order_by(Notification.id)).all()
    assert [(r.recipient_email, r.language) for r in rows] == [
        (customer.email, "es"), ("boss@example.org", "es"), (agent.email, "en")]
    from portal.views import notify_dispatch

    with app.app_context():
        message = notify_dispatch.build(db, rows[0], notify_dispatch.settings())
    assert message["Subject"] == "Recibido: Router <roto>"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert f"Hola Ana <script>, mira http://portal.test/tickets/{ticket.ref}" in text
    assert "Ana &lt;script&gt;" in html and "<script>" not in html  # the HTML mail escapes what it is given


def test_send_email_to_the_assignee_and_the_group(db, make, rule, agnes):
    diego = make.user(role="agent", name="Diego")
    group = Group(name="Tier 1", members=[agnes, diego])
    db.add(group)
    db.commit()
    rule({"type": "set_group", "value": group.id}, {"type": "set_assignee", "value": agnes.id},
         {**EMAIL, "to": "group"}, {**EMAIL, "to": "assignee"})
    ticket = make.ticket()
    rows = db.scalars(select(Notification.recipient_email).where(
        Notification.kind == "rule_email", Notification.ticket_id == ticket.id).order_by(Notification.id)).all()
    assert rows == [agnes.email, diego.email, agnes.email]


def test_call_webhook_queues_a_signed_delivery_with_the_ticket(db, make, rule, admin_user):
    endpoint = WebhookEndpoint(url="https://hooks.example.org/in", description="", secret="whsec_x",
                               events=["ticket.closed"], enabled=True, created_by=admin_user, created_at=utcnow())
    db.add(endpoint)
    db.commit()
    rule({"type": "set_priority", "value": "high"}, {"type": "call_webhook", "value": endpoint.id}, name="Hook")
    ticket = make.ticket()
    delivery = db.scalar(select(WebhookDelivery).where(WebhookDelivery.event == "rule.fired"))
    body = json.loads(delivery.body)
    assert body["rule"] == "Hook" and body["ticket"]["ref"] == ticket.ref
    assert body["ticket"]["priority"] == "high"  # as the rule left it


def test_on_a_closed_ticket_only_mail_and_webhooks_act(db, make, rule, agnes):
    rule({"type": "set_priority", "value": "urgent"}, {**EMAIL, "to": "requester"}, events=("ticket_updated",))
    ticket = make.ticket(status="closed")
    db.add(TicketEvent(ticket=ticket, actor_id=agnes.id, kind="sla_warning", created_at=utcnow()))
    db.commit()
    assert ticket.priority == "normal"
    assert db.scalar(select(Notification).where(Notification.kind == "rule_email")) is not None


def test_webhooks_see_what_the_rules_changed(db, make, rule, admin_user):
    endpoint = WebhookEndpoint(url="https://hooks.example.org/in", description="", secret="whsec_x",
                               events=["ticket.created"], enabled=True, created_by=admin_user, created_at=utcnow())
    db.add(endpoint)
    db.commit()
    rule({"type": "set_priority", "value": "urgent"}, {"type": "add_tags", "value": "vip"})
    make.ticket()
    [delivery] = db.scalars(select(WebhookDelivery)).all()
    body = json.loads(delivery.body)
    assert delivery.event == "ticket.created" and body["ticket"]["priority"] == "urgent"
    assert body["ticket"]["tags"] == ["vip"]
