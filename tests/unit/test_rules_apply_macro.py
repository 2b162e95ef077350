"""A rule's action "Apply a macro": the shared macro's changes land as the rule's, its reply reaches the customer
in public in the ticket's language with the placeholders filled, personal or missing macros are refused when the
rule is saved, and a macro deleted later switches the rule off with a reason instead of breaking the change."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.clock import utcnow
from portal.errors import Invalid
from portal.models import Macro, Message, Notification, Rule, RuleFiring, TicketEvent
from portal.services import agent_desk
from portal.services.rules import engine, manage


def _macro(db, *, owner=None, title="Thanks", body_en="", body_es="", actions=()) -> Macro:
    macro = Macro(title=title, body_en=body_en, body_es=body_es, actions=list(actions),
                  owner_id=owner.id if owner else None)
    db.add(macro)
    db.commit()
    return macro


@pytest.fixture
def rule(db, admin_user):
    def create(*actions, events=("ticket_created",), conditions=(), name="Welcome"):
        made = manage.create_rule(db, {"name": name, "events": list(events), "conditions_all": list(conditions),
                                       "actions": list(actions)}, actor=admin_user, now=utcnow())
        db.commit()
        return made
    return create


def apply(macro: Macro) -> dict:
    return {"type": "apply_macro", "value": macro.id}


def test_the_macros_changes_and_its_public_reply_land_as_the_rules(db, make, rule):
    macro = _macro(db, body_en="Hello {{ requester.name }}, we got {{ ticket.ref }} ({{ agent.name }}).",
                   actions=[{"type": "set_priority", "value": "high"}, {"type": "add_tags", "value": ["welcomed"]},
                            {"type": "add_note", "body": "Welcomed by {{ rule.name }}"}])
    rule(apply(macro))
    ticket = make.ticket(requester=make.user(name="Ana"))
    db.expire_all()
    assert ticket.priority == "high" and ticket.tag_names == ["welcomed"]
    reply = db.scalar(select(Message).where(Message.ticket_id == ticket.id, Message.public.is_(True),
                                            Message.author_id.is_(None)))
    assert reply.body == f"Hello Ana, we got {ticket.ref} ()."  # no person sent it: {{ agent.name }} is empty
    note = db.scalar(select(Message).where(Message.ticket_id == ticket.id, Message.public.is_(False)))
    assert note.body == "Welcomed by Welcome"
    events = db.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                  TicketEvent.rule_id.is_not(None))).all()
    assert {e.kind for e in events} >= {"priority_changed", "tag_added", "replied", "note_added"}
    assert all(e.actor_id is None for e in events)
    assert db.scalar(select(Notification).where(Notification.ticket_id == ticket.id,
                                                Notification.kind == "public_reply")) is not None
    assert "public reply" in db.scalar(select(RuleFiring.summary).where(RuleFiring.ticket_id == ticket.id))


def test_the_reply_is_in_the_tickets_language(db, make, rule):
    macro = _macro(db, body_en="Thanks", body_es="Gracias, {{ requester.name }}")
    rule(apply(macro))
    ticket = make.ticket(language="es", requester=make.user(name="Eva"))
    replies = db.scalars(select(Message.body).where(Message.ticket_id == ticket.id, Message.author_id.is_(None),
                                                    Message.public.is_(True))).all()
    assert replies == ["Gracias, Eva"]


def test_the_reply_is_sent_once_per_change_not_again_by_the_rules_own_events(db, make, rule, agnes):
    macro = _macro(db, body_en="We are on it.")
    rule(apply(macro), events=("ticket_created", "ticket_updated"))
    ticket = make.ticket()
    agent_desk.add_tag(db, ticket, "x", actor=agnes, now=utcnow())
    db.commit()
    sent = db.scalars(select(Message).where(Message.ticket_id == ticket.id, Message.author_id.is_(None))).all()
    assert len(sent) == 2  # one for the creation, one for the agent's change; never for the rule's own reply


def test_a_macro_setting_a_field_another_rule_sets_back_is_a_loop(db, make, rule, agnes):
    macro = _macro(db, title="Raise", actions=[{"type": "set_priority", "value": "high"}])
    rule(apply(macro), name="Raise by macro", events=("ticket_updated",),
         conditions=[{"field": "priority", "op": "is", "value": "normal"}])
    rule({"type": "set_priority", "value": "normal"}, name="Lower", events=("ticket_updated",),
         conditions=[{"field": "priority", "op": "is", "value": "high"}])
    ticket = make.ticket()
    agent_desk.add_tag(db, ticket, "go", actor=agnes, now=utcnow())
    db.commit()
    raised = db.scalar(select(Rule).where(Rule.name == "Raise by macro"))
    assert not raised.enabled and "Lower" in raised.disabled_reason


def test_only_a_shared_existing_macro_may_be_chosen(db, make, rule, agnes):
    def refusal(action) -> str:
        with pytest.raises(Invalid) as refused:
            rule(action)
        return refused.value.details["errors"]["actions.0.value"].text()

    personal = _macro(db, owner=agnes, title="Agnes's own", body_en="x")
    assert refusal(apply(personal)) == ("The macro \u201cAgnes's own\u201d is personal to one agent: a rule can "
                                        "only apply a shared macro.")
    assert "does not exist" in refusal({"type": "apply_macro", "value": 9999})
    assert "does not exist" in refusal({"type": "apply_macro", "value": "abc"})
    assert db.scalar(select(Rule)) is None


def test_a_macro_deleted_later_switches_the_rule_off_and_the_ticket_is_still_created(db, make, rule):
    macro = _macro(db, body_en="Hi", actions=[{"type": "add_tags", "value": ["welcomed"]}])
    made = rule(apply(macro), {"type": "set_priority", "value": "high"})
    db.delete(macro)
    db.commit()
    ticket = make.ticket()
    db.expire_all()
    assert ticket.id is not None and ticket.priority != "high" and ticket.tag_names == []  # rolled back whole
    broken = db.get(Rule, made.id)
    assert not broken.enabled and "macro" in broken.disabled_reason.lower()


def test_a_macro_made_personal_later_also_switches_the_rule_off(db, make, rule, agnes):
    macro = _macro(db, body_en="Hi")
    made = rule(apply(macro))
    macro.owner_id = agnes.id
    db.commit()
    make.ticket()
    db.expire_all()
    assert not db.get(Rule, made.id).enabled


def test_test_this_rule_shows_the_macros_changes_and_reply_without_doing_them(db, make, admin_user):
    macro = _macro(db, title="Thanks", body_en="Thanks {{ requester.name }}",
                   actions=[{"type": "set_priority", "value": "urgent"}])
    ticket = make.ticket(requester=make.user(name="Bo"))
    data = {"name": "Try", "events": ["ticket_updated"], "conditions_all": [], "actions": [apply(macro)]}
    explained = engine.explain(db, data, ticket, actor=admin_user, now=utcnow())
    words = [said.text() for said in explained.changes]
    assert any("Urgent" in w for w in words) and any("Thanks Bo" in w and "public" in w for w in words)
    assert ticket.priority != "urgent"
    assert db.scalar(select(Message).where(Message.ticket_id == ticket.id, Message.author_id.is_(None))) is None


def test_a_macro_cannot_apply_another_macro(db, admin_user):
    from portal.services import macros

    inner = _macro(db, body_en="x")
    with pytest.raises(Invalid):
        macros.save(db, None, title="Outer", body_en="", body_es="", shared=True, actions=[apply(inner)],
                    actor=admin_user, now=utcnow())
