"""Canned responses became macros: a macro with only a reply is what a canned response was (safe placeholders,
the ticket's language), the old pages lead to the macros, nothing creates canned responses any more, and the
responses made since the first copy are copied by the migration, so none is lost."""

from __future__ import annotations

import json

import pytest
from alembic import command
from sqlalchemy import text

from portal import create_app
from portal.cli.db import alembic_config
from portal.models import CannedResponse, Macro
from portal.services import macros
from tests.conftest import login


def test_placeholders_are_plain_substitution_never_a_template(db, make, agnes):
    sneaky = make.user(name="{{ 7*7 }} {% if true %}x{% endif %}")
    ticket = make.ticket(requester=sneaky)
    reply = Macro(title="t", body_en="Hi {{ requester.name }}, {{ticket.ref}} by {{ agent.name }} "
                                     "{{ config.SECRET_KEY }}", body_es="", actions=[])
    expected = (f"Hi {{{{ 7*7 }}}} {{% if true %}}x{{% endif %}}, {ticket.ref} by Agnes Agent "
                "{{ config.SECRET_KEY }}")
    assert macros.reply_for(reply, ticket, agnes) == expected


@pytest.mark.parametrize(("language", "body_es", "expected"), [
    ("es", "Hola {{ requester.name }}", "Hola Alice Customer"),
    ("en", "Hola {{ requester.name }}", "Hello Alice Customer"),
    ("es", "  ", "Hello Alice Customer"),  # no Spanish text: the English one
])
def test_the_tickets_language_picks_the_body(db, make, alice, agnes, language, body_es, expected):
    ticket = make.ticket(requester=alice, language=language)
    reply = Macro(title="t", body_en="Hello {{ requester.name }}", body_es=body_es, actions=[])
    assert macros.reply_for(reply, ticket, agnes) == expected
    assert macros.inserts_only(reply)  # only a reply: the composer inserts it at once


def test_the_old_pages_lead_to_the_macros(client, db, agnes, admin_user):
    copied = CannedResponse(title="Thanks", body_en="Thanks", owner_id=agnes.id)
    db.add(copied)
    db.flush()
    mine = Macro(title="Thanks", body_en="Thanks", actions=[], owner_id=agnes.id, canned_response_id=copied.id)
    shared = Macro(title="Shared", body_en="Hi", actions=[], canned_response_id=copied.id + 1000)
    db.add_all([mine, shared])
    db.commit()
    login(client, agnes)
    for old, new in (("/agent/canned", "/agent/macros"), ("/agent/canned/new", "/agent/macros/new")):
        response = client.get(old)
        assert response.status_code == 301 and response.location.endswith(new)
    edit = client.get(f"/agent/canned/{copied.id}/edit")
    assert edit.status_code == 302 and edit.location.endswith(f"/agent/macros/{mine.id}/edit")
    # A shared one is the admins' to edit: the agent is shown the list instead.
    assert client.get(f"/agent/canned/{copied.id + 1000}/edit").location.endswith("/agent/macros")
    assert client.get("/agent/canned/999999/edit").location.endswith("/agent/macros")
    assert "Thanks" in client.get("/agent/canned", follow_redirects=True).text


def test_nothing_creates_a_canned_response_any_more(client, db, agnes):
    login(client, agnes)
    response = client.post("/agent/canned/new", data={"title": "Thanks", "body_en": "Thanks"})
    assert response.status_code == 405
    assert db.query(CannedResponse).count() == 0
    page = client.get("/agent").text
    assert "/agent/canned" not in page and "/agent/macros" in page


def test_a_canned_response_is_offered_only_through_its_macro(client, db, make, alice, agnes):
    db.add(CannedResponse(title="Never copied", body_en="Old text"))  # the table is no longer read
    db.add(Macro(title="Copied one", body_en="Kept text", actions=[]))
    db.commit()
    ticket = make.ticket(requester=alice)
    login(client, agnes)
    page = client.get(f"/agent/tickets/{ticket.ref}").text
    assert "Copied one" in page and "Never copied" not in page


def test_the_migration_copies_the_canned_responses_made_since_the_first_copy(tmp_path):
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance")})
    cfg, engine = alembic_config(app), app.extensions["engine"]
    command.upgrade(cfg, "e7a1b2c3d408")
    insert = text("INSERT INTO canned_responses (title, body_en, body_es, owner_id, set_status, set_priority, "
                  "add_tags, active, created_at) VALUES (:title, :body, '', NULL, :status, NULL, :tags, :active, "
                  "'2026-01-02 03:04:05')")
    with engine.begin() as conn:
        conn.execute(insert, {"title": "First", "body": "one", "status": None, "tags": "[]", "active": True})
    command.upgrade(cfg, "a4c8d2e6f409")  # macros came in: "First" is copied; the canned pages still worked
    with engine.begin() as conn:
        conn.execute(insert, {"title": "Made later", "body": "Hi {{ requester.name }}", "status": "pending",
                              "tags": '["later"]', "active": True})
        conn.execute(insert, {"title": "Deleted later", "body": "x", "status": None, "tags": "[]", "active": False})
    command.upgrade(cfg, "head")
    command.downgrade(cfg, "a4c8d2e6f409")
    command.upgrade(cfg, "head")  # again: nothing is copied twice
    with engine.connect() as conn:
        canned = conn.execute(text("SELECT title FROM canned_responses ORDER BY id")).scalars().all()
        rows = conn.execute(text("SELECT title, body_en, actions FROM macros ORDER BY id")).all()
    engine.dispose()
    assert canned == ["First", "Made later", "Deleted later"]  # the table itself stays
    assert [(title, body) for title, body, _actions in rows] == [("First", "one"),
                                                                 ("Made later", "Hi {{ requester.name }}")]
    actions = rows[1][2]
    assert (json.loads(actions) if isinstance(actions, str) else actions) == [
        {"type": "set_status", "value": "pending"}, {"type": "add_tags", "value": ["later"]}]
