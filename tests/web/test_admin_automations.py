"""Admin → Rules with automations: two sections on the list, a "Kind" choice in the editor (no JavaScript
needed), the once-per-ticket box and the refusal of an automation that would act forever, in English and
Spanish."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.clock import utcnow
from portal.models import Rule
from portal.services.rules import manage
from tests.conftest import login

TRIGGER = {"name": "VIP high", "events": ["ticket_created"], "conditions_all": [],
           "actions": [{"type": "set_priority", "value": "high"}]}
AUTOMATION = {"name": "Remind quiet tickets", "kind": "automation",
              "conditions_all": [{"field": "status", "op": "is", "value": "pending"},
                                 {"field": "tags", "op": "has_not", "value": ["reminded"]}],
              "actions": [{"type": "add_tags", "value": ["reminded"]}]}


@pytest.fixture
def admin(client, admin_user):
    login(client, admin_user)
    return admin_user


def section(page: str, section_id: str) -> str:
    match = re.search(rf'<section class="rule-kind" id="{section_id}".*?</section>', page, re.S)
    assert match, section_id
    return match.group(0)


def posted(name: str, **extra) -> dict:
    return {"name": name, "enabled": "1", "kind": "automation", "events": ["ticket_created"],
            "conditions_all.0.field": "status", "conditions_all.0.op": "is", "conditions_all.0.value": "pending",
            "conditions_all.1.field": "hours_since_updated", "conditions_all.1.op": "greater_than",
            "conditions_all.1.value": "72",
            "actions.0.type": "add_note", "actions.0.body": "Still waiting.", "do": "save", **extra}


def test_the_list_shows_triggers_and_automations_apart(client, db, admin):
    manage.create_rule(db, TRIGGER, actor=admin, now=utcnow())
    manage.create_rule(db, AUTOMATION, actor=admin, now=utcnow())
    db.commit()
    page = client.get("/admin/rules").text
    triggers, automations = section(page, "triggers"), section(page, "automations")
    assert "VIP high" in triggers and "Remind quiet tickets" not in triggers
    assert "Remind quiet tickets" in automations and "Every hour" in automations
    assert "/admin/rules/new?kind=automation" in page


def test_an_automation_is_created_from_a_plain_form_with_the_once_per_ticket_box(client, db, admin):
    response = client.post("/admin/rules/new", data=posted("Note quiet tickets", once_per_ticket="1"))
    assert response.status_code == 303
    rule = db.scalar(select(Rule))
    assert (rule.kind, rule.once_per_ticket, rule.events) == ("automation", True, [])
    assert "at most once per ticket" in section(client.get("/admin/rules").text, "automations")


def test_an_automation_that_would_act_forever_is_refused_beside_the_box(client, db, admin):
    response = client.post("/admin/rules/new", data=posted("Note forever"))
    assert response.status_code == 422
    page = response.text
    assert 'id="rule-once-error"' in page and "every hour, forever" in page
    assert 'value="automation" id="kind-automation" checked' in page  # what was typed is kept
    assert db.scalar(select(Rule)) is None


def test_the_editor_offers_the_kind_and_opens_an_automation_as_one(client, db, admin):
    page = client.get("/admin/rules/new?kind=automation").text
    assert 'value="automation" id="kind-automation" checked' in page
    assert "At most once per ticket" in page and "checked every hour" in page
    rule = manage.create_rule(db, AUTOMATION, actor=admin, now=utcnow())
    db.commit()
    page = client.get(f"/admin/rules/{rule.id}").text
    assert 'value="automation" id="kind-automation" checked' in page
    assert 'value="trigger" id="kind-trigger" checked' in client.get("/admin/rules/new").text


def test_moving_an_automation_moves_it_among_the_automations(client, db, admin):
    manage.create_rule(db, TRIGGER, actor=admin, now=utcnow())
    first = manage.create_rule(db, AUTOMATION, actor=admin, now=utcnow())
    second = manage.create_rule(db, AUTOMATION | {"name": "Second"}, actor=admin, now=utcnow())
    db.commit()
    manage.move_rule(db, second, actor=admin, now=utcnow(), direction="up")
    db.commit()
    page = section(client.get("/admin/rules").text, "automations")
    assert page.index("Second") < page.index(first.name)


def test_the_automation_texts_are_in_spanish(client, db, make):
    boss = make.user(role="admin", email="jefa@example.com", locale="es")
    login(client, boss)
    manage.create_rule(db, AUTOMATION, actor=boss, now=utcnow())
    db.commit()
    page = client.get("/admin/rules").text
    assert "Automatizaciones" in page and "Cada hora" in page
    refused = client.post("/admin/rules/new", data=posted("Nota sin fin")).text
    assert "cada hora, para siempre" in refused and "Como máximo una vez por solicitud" in refused


def test_test_this_rule_works_for_an_automation(client, db, admin, make):
    ticket = make.ticket(priority="normal")
    typed = posted("Try me", **{"do": "test", "test_ticket": ticket.ref, "once_per_ticket": "1",
                                "conditions_all.0.value": "new", "conditions_all.1.value": "0"})
    response = client.post("/admin/rules/new", data=typed)
    assert response.status_code == 200
    assert f"The rule would fire on {ticket.ref}." in response.text
    assert db.scalar(select(Rule)) is None
