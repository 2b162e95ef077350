"""When Mesa switches a rule off (an action failed, a loop), admins notice: a banner on the admin home and the rules
list names the rule and links to why; the reason reads in the admin's language (English or Spanish), and a rule
switched off before reasons had codes still shows its stored words."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select, update

from portal.clock import utcnow
from portal.models import Macro, Rule
from portal.services import agent_desk
from portal.services.rules import manage
from tests.conftest import login


@pytest.fixture
def rule(db, admin_user):
    def create(name, *actions, events=("ticket_updated",), conditions=()):
        made = manage.create_rule(db, {"name": name, "events": list(events), "conditions_all": list(conditions),
                                       "actions": list(actions)}, actor=admin_user, now=utcnow())
        db.commit()
        return made
    return create


@pytest.fixture
def a_loop(db, make, rule, agnes):
    """Two rules flipping the priority: "Raise" is switched off by the engine."""
    rule("Raise", {"type": "set_priority", "value": "high"},
         conditions=[{"field": "priority", "op": "is", "value": "normal"}])
    rule("Lower", {"type": "set_priority", "value": "normal"},
         conditions=[{"field": "priority", "op": "is", "value": "high"}])
    ticket = make.ticket()
    agent_desk.add_tag(db, ticket, "go", actor=agnes, now=utcnow())
    db.commit()
    raised = db.scalar(select(Rule).where(Rule.name == "Raise"))
    assert not raised.enabled
    return raised, ticket


def banner(page: str) -> str:
    start = page.index('id="rules-switched-off"')
    return html.unescape(page[start:page.index("</div>", start)])


def test_the_admin_home_and_the_rules_list_say_which_rule_was_switched_off(client, db, admin_user, a_loop):
    raised, _ticket = a_loop
    login(client, admin_user)
    for address in ("/admin/", "/admin/rules"):
        shown = banner(client.get(address).text)
        assert "1 rule was switched off because it failed:" in shown and "Raise" in shown
        assert f'href="/admin/rules#rule-{raised.id}"' in shown and "see why" in shown


def test_the_banner_goes_once_the_rule_is_switched_on_again(client, db, admin_user, a_loop):
    raised, _ticket = a_loop
    manage.set_enabled(db, raised, True, actor=admin_user, now=utcnow())
    db.commit()
    assert (raised.disabled_reason, raised.disabled_code, raised.disabled_params) == (None, None, None)
    login(client, admin_user)
    assert 'id="rules-switched-off"' not in client.get("/admin/").text


def test_a_rule_an_admin_switched_off_is_not_announced(client, db, admin_user, rule):
    quiet = rule("Quiet", {"type": "add_tags", "value": ["x"]})
    manage.set_enabled(db, quiet, False, actor=admin_user, now=utcnow())
    db.commit()
    login(client, admin_user)
    assert 'id="rules-switched-off"' not in client.get("/admin/").text


def test_the_reason_is_stored_as_a_code_and_reads_in_english(client, db, admin_user, a_loop):
    raised, ticket = a_loop
    assert raised.disabled_code == "loop_set_back"
    assert raised.disabled_params == {"ticket": ticket.ref, "field": "priority", "other": "Lower"}
    login(client, admin_user)
    page = html.unescape(client.get("/admin/rules").text)
    assert (f"Loop: on ticket {ticket.ref} it set Priority, then rule “Lower”, which looks at Priority, set it "
            "back, and this rule would set it again.") in page


def test_the_reason_reads_in_spanish_for_a_spanish_admin(client, db, make, a_loop):
    raised, ticket = a_loop
    jefa = make.user(role="admin", email="jefa@example.com", locale="es")
    login(client, jefa)
    home = banner(client.get("/admin/").text)
    assert "1 regla se desactivó porque falló:" in home and "ver por qué" in home
    page = html.unescape(client.get("/admin/rules").text)
    assert (f"Bucle: en la solicitud {ticket.ref} cambió Prioridad, luego la regla «Lower», que mira Prioridad, "
            "lo devolvió, y esta regla lo cambiaría otra vez.") in page
    editor = html.unescape(client.get(f"/admin/rules/{raised.id}").text)
    assert "Mesa desactivó esta regla:" in editor and "Bucle: en la solicitud" in editor
    assert "Loop: on ticket" not in editor  # the audit trail's entry too is in Spanish


def test_a_deleted_macro_is_named_in_either_language(client, db, make, admin_user, rule):
    macro = Macro(title="Welcome", body_en="Hi", actions=[])
    db.add(macro)
    db.commit()
    made = rule("Welcome them", {"type": "apply_macro", "value": macro.id}, events=("ticket_created",))
    db.delete(macro)
    db.commit()
    ticket = make.ticket()
    db.expire_all()
    broken = db.get(Rule, made.id)
    assert broken.disabled_code == "macro_deleted"
    login(client, admin_user)
    english = html.unescape(client.get("/admin/rules").text)
    assert f"On ticket {ticket.ref} the macro it applies (number {macro.id}) no longer exists" in english
    english_home = banner(client.get("/admin/").text)
    assert "Welcome them" in english_home
    jefa = make.user(role="admin", email="jefa@example.com", locale="es")
    client.post("/logout")
    login(client, jefa)
    spanish = html.unescape(client.get("/admin/rules").text)
    assert f"En la solicitud {ticket.ref} la macro que aplica (número {macro.id}) ya no existe" in spanish


def test_a_rule_switched_off_before_codes_existed_shows_its_stored_words(client, db, make, admin_user, rule):
    old = rule("Old one", {"type": "add_tags", "value": ["x"]})
    db.execute(update(Rule).where(Rule.id == old.id).values(
        enabled=False, disabled_reason="An action failed on ticket MSA-OLD1: KeyError: 'x'"))
    db.commit()
    jefa = make.user(role="admin", email="jefa@example.com", locale="es")
    login(client, jefa)
    page = html.unescape(client.get("/admin/rules").text)
    assert "An action failed on ticket MSA-OLD1: KeyError: 'x'" in page
    assert "Old one" in banner(client.get("/admin/").text)
