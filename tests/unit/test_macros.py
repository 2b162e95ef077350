"""Macros: who sees and edits which, the reply in the ticket's language, a preview that writes nothing, and
changes made as the agent (their permissions and the version check hold)."""

from __future__ import annotations

import json

import pytest
from alembic import command
from sqlalchemy import func, select, text

from portal import create_app
from portal.cli.db import alembic_config
from portal.clock import utcnow
from portal.errors import Conflict, Invalid, NotAllowed, NotFound
from portal.models import Group, Macro, Message, TicketEvent
from portal.services import macros


def _macro(db, *, owner=None, title="Refund", body_en="", body_es="", actions=()) -> Macro:
    macro = Macro(title=title, body_en=body_en, body_es=body_es, actions=list(actions),
                  owner_id=owner.id if owner else None)
    db.add(macro)
    db.commit()
    return macro


def test_an_agent_sees_shared_macros_and_their_own_not_a_colleagues(db, make, agnes):
    colleague = make.user(role="agent")
    shared = _macro(db, title="Shared", body_en="x")
    mine = _macro(db, owner=agnes, title="Mine", body_en="x")
    theirs = _macro(db, owner=colleague, title="Theirs", body_en="x")
    assert [m.title for m in macros.available(db, agnes)] == ["Mine", "Shared"]
    assert macros.get_usable(db, shared.id, agnes) is shared
    assert macros.get_usable(db, mine.id, agnes) is mine
    with pytest.raises(NotFound):
        macros.get_usable(db, theirs.id, agnes)


def test_only_admins_share_or_change_shared_macros_owners_change_their_own(db, make, agnes, admin_user):
    now = utcnow()
    with pytest.raises(NotAllowed):
        macros.save(db, None, title="x", body_en="y", body_es="", shared=True, actions=[], actor=agnes, now=now)
    shared = macros.save(db, None, title="Shared", body_en="y", body_es="", shared=True, actions=[],
                         actor=admin_user, now=now)
    db.commit()
    assert shared.owner_id is None
    with pytest.raises(NotAllowed):
        macros.get_editable(db, shared.id, agnes)
    with pytest.raises(NotAllowed):
        macros.delete(db, shared, actor=agnes)
    mine = macros.save(db, None, title="Mine", body_en="y", body_es="", shared=False, actions=[], actor=agnes,
                       now=now)
    db.commit()
    assert mine.owner_id == agnes.id and mine.created_by_id == agnes.id
    assert macros.get_editable(db, mine.id, agnes) is mine
    colleague = make.user(role="agent")
    with pytest.raises(NotFound):
        macros.get_editable(db, mine.id, colleague)


def test_actions_are_checked_like_a_rules_and_limited_to_what_agents_do(db, agnes, admin_user):
    now = utcnow()
    with pytest.raises(Invalid):
        macros.save(db, None, title="x", body_en="", body_es="", shared=False, actions=[], actor=agnes, now=now)
    with pytest.raises(Invalid) as refused:
        macros.save(db, None, title="x", body_en="y", body_es="", shared=False,
                    actions=[{"type": "set_priority", "value": "extreme"}], actor=agnes, now=now)
    assert refused.value.details["field"] == "actions.0.value"
    with pytest.raises(Invalid):
        macros.save(db, None, title="x", body_en="y", body_es="", shared=True, actor=admin_user, now=now,
                    actions=[{"type": "call_webhook", "value": 1}])
    saved = macros.save(db, None, title="x", body_en="", body_es="", shared=False, actor=agnes, now=now,
                        actions=[{"type": "add_tags", "value": ["VIP", "refund"]}])
    assert saved.actions == [{"type": "add_tags", "value": ["vip", "refund"]}]


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "Hello Alice Customer, about {ref}. Agnes Agent"),
    ("es", "Hola Alice Customer, sobre {ref}. Agnes Agent"),
])
def test_the_reply_is_in_the_tickets_language_with_placeholders_as_plain_text(db, make, alice, agnes, language,
                                                                               expected):
    ticket = make.ticket(requester=alice, language=language)
    macro = _macro(db, body_en="Hello {{ requester.name }}, about {{ticket.ref}}. {{ agent.name }}",
                   body_es="Hola {{ requester.name }}, sobre {{ ticket.ref }}. {{ agent.name }}")
    assert macros.reply_for(macro, ticket, agnes) == expected.format(ref=ticket.ref)


def test_a_name_that_looks_like_a_template_stays_text(db, make, agnes):
    ticket = make.ticket(requester=make.user(name="{{ 7*7 }}"), language="es")
    macro = _macro(db, body_en="Hi {{ requester.name }} {{ config.SECRET_KEY }}")  # no Spanish: the English one
    assert macros.reply_for(macro, ticket, agnes) == "Hi {{ 7*7 }} {{ config.SECRET_KEY }}"


def test_preview_says_what_would_change_and_writes_nothing(db, make, alice, agnes):
    ticket = make.ticket(requester=alice, priority="normal")
    macro = _macro(db, body_en="Hi {{ requester.name }}", actions=[
        {"type": "set_priority", "value": "urgent"}, {"type": "add_tags", "value": ["refund"]}])
    version, events = ticket.version, db.scalar(select(func.count(TicketEvent.id)))
    shown = macros.preview(db, ticket, macro, agnes)
    db.commit()
    db.refresh(ticket)
    assert shown.reply == "Hi Alice Customer"
    assert [c.text() for c in shown.changes] == ["Would do this: Set the priority: Urgent.",
                                                 "Would do this: Add tags: refund."]
    assert (ticket.priority, ticket.tag_names, ticket.version) == ("normal", [], version)
    assert db.scalar(select(func.count(TicketEvent.id))) == events


def test_apply_makes_the_changes_as_the_agent_and_returns_the_reply_unsent(db, make, alice, agnes):
    ticket = make.ticket(requester=alice)
    macro = _macro(db, body_en="Done, {{ requester.name }}.", actions=[
        {"type": "set_priority", "value": "high"}, {"type": "add_tags", "value": ["refund"]},
        {"type": "set_assignee", "value": agnes.id}, {"type": "add_note", "body": "Macro used on {{ ticket.ref }}"}])
    reply = macros.apply(db, ticket, macro, actor=agnes, now=utcnow(), expected_version=ticket.version)
    db.commit()
    assert reply == "Done, Alice Customer."
    assert (ticket.priority, ticket.tag_names, ticket.assignee_id) == ("high", ["refund"], agnes.id)
    events = db.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                  TicketEvent.kind == "priority_changed")).all()
    assert [e.actor_id for e in events] == [agnes.id]
    messages = db.scalars(select(Message).where(Message.ticket_id == ticket.id)).all()
    assert not any(m.public and m.author_id == agnes.id for m in messages)  # the reply waits in the composer
    assert any(not m.public and m.body == f"Macro used on {ticket.ref}" for m in messages)


def test_apply_on_a_ticket_changed_meanwhile_is_refused_and_changes_nothing(db, make, alice, agnes):
    ticket = make.ticket(requester=alice)
    macro = _macro(db, body_en="x", actions=[{"type": "set_priority", "value": "urgent"}])
    with pytest.raises(Conflict):
        macros.apply(db, ticket, macro, actor=agnes, now=utcnow(), expected_version=ticket.version - 1)
    db.rollback()
    db.refresh(ticket)
    assert ticket.priority == "normal"


def test_an_agent_cannot_use_a_macro_to_assign_a_guided_groups_ticket(db, make, agnes):
    group = Group(name="Guided desk", guided=True)
    db.add(group)
    db.commit()
    ticket = make.ticket(category=make.category(name="Billing", group=group))
    macro = _macro(db, body_en="x", actions=[{"type": "set_assignee", "value": agnes.id}])
    with pytest.raises(NotAllowed):
        macros.apply(db, ticket, macro, actor=agnes, now=utcnow(), expected_version=ticket.version)


def test_bulk_sends_the_reply_to_each_ticket_and_skips_the_closed_one(db, make, alice, agnes):
    first, second = make.ticket(requester=alice), make.ticket(requester=alice, language="es")
    closed = make.ticket(requester=alice, status="closed")
    macro = _macro(db, body_en="Hi {{ ticket.ref }}", body_es="Hola {{ ticket.ref }}",
                   actions=[{"type": "add_tags", "value": ["outage"]}])
    changed, refused = macros.apply_to_many(db, [first.ref, second.ref, closed.ref], macro, actor=agnes,
                                            now=utcnow())
    db.commit()
    assert {t.ref for t in changed} == {first.ref, second.ref}
    assert [ref for ref, _ in refused] == [closed.ref]
    assert closed.tag_names == []
    for ticket, said in ((first, f"Hi {first.ref}"), (second, f"Hola {second.ref}")):
        assert "outage" in ticket.tag_names
        assert db.scalar(select(Message).where(Message.ticket_id == ticket.id, Message.public.is_(True),
                                               Message.author_id == agnes.id)).body == said


def test_the_migration_makes_each_canned_response_a_macro_and_keeps_it(tmp_path):
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance")})
    cfg, engine = alembic_config(app), app.extensions["engine"]
    command.upgrade(cfg, "e7a1b2c3d408")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO canned_responses (title, body_en, body_es, owner_id, set_status, set_priority, add_tags, "
            "active, created_at) VALUES ('Reset', 'Hi {{ requester.name }}', 'Hola', NULL, 'pending', 'high', "
            "'[\"password\"]', :yes, '2026-01-02 03:04:05'), ('Old', 'x', '', NULL, NULL, NULL, '[]', :no, "
            "'2026-01-02 03:04:05')"), {"yes": True, "no": False})
    command.upgrade(cfg, "head")
    with engine.connect() as conn:
        canned = conn.execute(text("SELECT title FROM canned_responses ORDER BY id")).scalars().all()
        rows = conn.execute(text("SELECT title, body_en, body_es, owner_id, actions FROM macros")).all()
    engine.dispose()
    assert canned == ["Reset", "Old"]  # the canned responses themselves stay
    assert len(rows) == 1  # an inactive (deleted) one is not brought back
    title, body_en, body_es, owner_id, actions = rows[0]
    assert (title, body_en, body_es, owner_id) == ("Reset", "Hi {{ requester.name }}", "Hola", None)
    assert (json.loads(actions) if isinstance(actions, str) else actions) == [
        {"type": "set_status", "value": "pending"}, {"type": "set_priority", "value": "high"},
        {"type": "add_tags", "value": ["password"]}]
