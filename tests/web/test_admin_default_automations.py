"""The default automations in Admin → Rules: marked as shipped with Mesa, explained in the admin's language,
edited through the plain form like any rule; the Timers page points at them; closing stays an automation's."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.clock import utcnow
from portal.models import Rule
from portal.services.rules import manage
from portal.services.rules.defaults import default_automations
from tests.conftest import login


def form_of(rule: Rule, **changes) -> dict:
    """The editor's inputs for this rule, as the page posts them."""
    data = {"name": rule.name, "enabled": "1", "kind": "automation", "version": str(rule.version), "do": "save"}
    for list_key in ("conditions_all", "conditions_any"):
        for i, condition in enumerate(getattr(rule, list_key)):
            data |= {f"{list_key}.{i}.{part}": str(value) for part, value in condition.items()}
    for i, action in enumerate(rule.actions):
        data |= {f"actions.{i}.{part}": str(value) for part, value in action.items()}
    return data | changes


@pytest.fixture
def admin(client, admin_user):
    login(client, admin_user)
    return admin_user


def test_the_defaults_are_listed_as_shipped_with_mesa_in_spanish(client, db, make):
    make.default_automations()
    boss = make.user(role="admin", email="jefa@example.com", locale="es")
    login(client, boss)
    page = client.get("/admin/rules").text
    automations = re.search(r'<section class="rule-kind" id="automations".*?</section>', page, re.S).group(0)
    assert automations.count("Instalada con Mesa") == 3
    assert "Close solved tickets after 28 days" in automations
    # What each does reads in Spanish: the conditions and actions are the catalog's, translated.
    assert "Horas desde el último cambio de estado" in automations
    assert "Enviar al cliente el recordatorio de solicitud pendiente" in automations
    assert "Añadir una respuesta pública, en el idioma de la solicitud" in automations


def test_each_default_opens_in_the_editor_and_saves_unchanged(client, db, make, admin):
    for rule in make.default_automations():
        page = client.get(f"/admin/rules/{rule.id}")
        assert page.status_code == 200 and rule.name in page.text
        response = client.post(f"/admin/rules/{rule.id}", data=form_of(rule))
        assert response.status_code == 303, response.text
    db.expire_all()
    for rule, data in zip(db.scalars(select(Rule).order_by(Rule.position)), default_automations(), strict=True):
        assert (rule.conditions_all, rule.actions) == (data["conditions_all"], data["actions"])


def test_the_admin_changes_the_days_in_the_form_and_the_timers_page_follows(client, db, make, admin):
    close = make.default_automations()[0]
    assert "28" in client.get("/admin/timers").text
    response = client.post(f"/admin/rules/{close.id}", data=form_of(
        close, name="Close solved tickets after 10 days", **{"conditions_all.1.value": "240"}))
    assert response.status_code == 303
    db.expire_all()
    assert db.get(Rule, close.id).conditions_all[1]["value"] == 240
    timers = client.get("/admin/timers").text
    assert "Close solved tickets after 10 days" in timers and f"/admin/rules/{close.id}" in timers
    manage.delete_rule(db, db.get(Rule, close.id), actor=admin, now=utcnow())
    db.commit()
    assert "No enabled automation does it." in client.get("/admin/timers").text


def test_a_trigger_cannot_close_tickets(client, db, admin):
    response = client.post("/admin/rules/new", data={
        "name": "Close on reply", "enabled": "1", "kind": "trigger", "events": ["customer_replied"],
        "actions.0.type": "set_status", "actions.0.value": "closed", "do": "save"})
    assert response.status_code == 422
    assert "Only an automation closes tickets" in response.text
    assert db.scalar(select(Rule)) is None


def test_the_agents_timeline_says_what_the_default_automations_did(client, db, make, agnes):
    from datetime import timedelta

    from portal.services import tickets
    from portal.services.rules import automations

    make.default_automations()
    then = utcnow() - timedelta(days=4)
    ticket = make.ticket(now=then)
    tickets.agent_reply(db, ticket, body="Which light is red?", submit_as="pending", actor=agnes, now=then)
    db.commit()
    automations.run(db, now=utcnow())
    login(client, agnes)
    page = client.get(f"/agent/tickets/{ticket.ref}").text
    assert ("Rule “Remind the customer of a pending ticket after 3 days” reminded the customer that we are "
            "waiting for their reply") in page
    automations.run(db, now=utcnow() + timedelta(days=4))
    page = client.get(f"/agent/tickets/{ticket.ref}").text
    assert "Rule “Solve pending tickets after 7 days” set the status to Solved" in page
    assert "We have not heard from you for 7 days" in page
