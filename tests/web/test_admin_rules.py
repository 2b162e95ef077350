"""Admin → Rules: the list, the editor as a plain form (no JavaScript needed), its messages beside the rows with
everything typed kept, the version check, switching, copying, moving, deleting, export and import, the audit trail,
"Test this rule", and who may do any of it."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from portal.clock import utcnow
from portal.models import Group, Rule, RuleChange, RuleFiring
from portal.services import accounts
from portal.services.rules import manage
from tests.conftest import login
from tests.security.test_session_expiry_keeps_text import csrf_of, hidden_fields, log_in_again_from

VIP = {"name": "Big client to Tier 2", "events": ["ticket_created"],
       "conditions_all": [{"field": "requester_domain", "op": "is", "value": "bigclient.com"}],
       "conditions_any": [], "actions": [{"type": "set_priority", "value": "high"}]}


def add_rule(db, admin, **changes) -> Rule:
    rule = manage.create_rule(db, {**VIP, **changes}, actor=admin, now=utcnow())
    db.commit()
    return rule


def rules(db) -> list[Rule]:
    db.expire_all()
    return list(db.scalars(select(Rule).order_by(Rule.position)))


def names(db) -> list[str]:
    return [rule.name for rule in rules(db)]


@pytest.fixture
def tier2(db) -> Group:
    group = Group(name="Tier 2")
    db.add(group)
    db.commit()
    return group


@pytest.fixture
def admin(client, admin_user):
    login(client, admin_user)
    return admin_user


# ---- Who may ------------------------------------------------------------------------------------------------


def test_agents_are_refused_customers_see_nothing_and_visitors_log_in(client, db, alice, agnes, admin_user):
    rule = add_rule(db, admin_user)
    login(client, agnes)
    for url in ("/admin/rules", "/admin/rules/new", f"/admin/rules/{rule.id}", "/admin/rules/export",
                "/admin/rules/changes", "/admin/rules/import", f"/admin/rules/{rule.id}/delete"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/admin/rules/{rule.id}/delete").status_code == 403
    assert client.post(f"/admin/rules/{rule.id}/enabled", data={"enabled": "0"}).status_code == 403
    assert client.post("/admin/rules/new", data={**form_of(VIP), "do": "save"}).status_code == 403
    assert client.get("/admin/rules/row?actions.0.type=set_group").status_code == 403
    client.post("/logout")
    login(client, alice)
    assert client.get("/admin/rules").status_code == 403
    assert client.post(f"/admin/rules/{rule.id}/delete").status_code == 403
    client.post("/logout")
    visitor = client.get("/admin/rules")
    assert visitor.status_code == 302 and "/login" in visitor.headers["Location"]
    assert names(db) == ["Big client to Tier 2"] and rules(db)[0].enabled


def test_the_admin_nav_links_to_rules(client, admin):
    assert 'href="/admin/rules"' in client.get("/admin/").text


# ---- The list -----------------------------------------------------------------------------------------------


def test_the_list_shows_rules_in_order_with_events_state_firings_and_the_engines_reason(client, db, admin,
                                                                                        make, tier2):
    first = add_rule(db, admin, actions=[{"type": "set_group", "value": tier2.id}])
    second = add_rule(db, admin, name="Loud one", events=["customer_replied", "status_changed"])
    ticket = make.ticket()
    now = utcnow()
    db.add_all([RuleFiring(rule_id=first.id, ticket_id=ticket.id, fired_at=now - timedelta(days=2), event="x"),
                RuleFiring(rule_id=first.id, ticket_id=ticket.id, fired_at=now - timedelta(days=3), event="x"),
                RuleFiring(rule_id=first.id, ticket_id=ticket.id, fired_at=now - timedelta(days=9), event="x")])
    second.enabled, second.disabled_reason = False, "Loop: on ticket MSA-1 it set priority back and forth."
    db.commit()

    page = client.get("/admin/rules").text
    banner = page[page.index('id="rules-switched-off"'):page.index("</div>", page.index('id="rules-switched-off"'))]
    assert "1 rule was switched off because it failed:" in banner and "Loud one" in banner
    page = page[page.index('class="rule-cards"'):]  # the list, below the banner
    assert page.index("Big client to Tier 2") < page.index("Loud one")
    assert "A ticket is created" in page and "The customer replies" in page and "The status changes" in page
    assert "Fired 2 times in the last 7 days" in page and "Fired 0 times in the last 7 days" in page
    assert "Set the group: Tier 2" in page  # ids read as names
    assert "Switched off by Mesa:" in page and "set priority back and forth" in page
    card = page[page.index(f'id="rule-{second.id}"'):]
    assert "is-flagged" in page[page.index(f'id="rule-{second.id}"') - 60:][:120] and "Switch on" in card


# ---- The editor without JavaScript --------------------------------------------------------------------------


def form_of(rule: dict, **extra) -> dict:
    """A rule as the editor's inputs post it."""
    data = {"name": rule["name"], "events": rule["events"], "enabled": "1", **extra}
    for list_key in ("conditions_all", "conditions_any", "actions"):
        for index, row in enumerate(rule[list_key]):
            for part, value in row.items():
                data[f"{list_key}.{index}.{part}"] = value if not isinstance(value, list) else ", ".join(value)
    return data


def test_a_rule_is_created_from_a_plain_form_post_with_conditions_and_actions(client, db, admin, tier2):
    posted = {"name": "  Mail from big client  ", "events": ["ticket_created", "customer_replied"], "enabled": "1",
              "conditions_all.0.field": "channel", "conditions_all.0.op": "is", "conditions_all.0.value": "email",
              "conditions_all.1.field": "requester_email", "conditions_all.1.op": "ends_with",
              "conditions_all.1.value": "@BigClient.com",
              "conditions_all.2.field": "", "conditions_all.2.op": "", "conditions_all.2.value": "",  # an empty row
              "conditions_any.0.field": "subject_or_description", "conditions_any.0.op": "contains_any_word",
              "conditions_any.0.value": "urgente factur*",
              "conditions_any.1.field": "business_hours", "conditions_any.1.op": "is_false",
              "actions.0.type": "set_priority", "actions.0.value": "high",
              "actions.1.type": "set_group", "actions.1.value": str(tier2.id),
              "actions.2.type": "add_tags", "actions.2.value": "vip, billing",
              "actions.3.type": "", "actions.3.value": "",
              "do": "save"}
    response = client.post("/admin/rules/new", data=posted)
    assert response.status_code == 303
    [rule] = rules(db)
    assert response.headers["Location"].endswith(f"/admin/rules#rule-{rule.id}")
    assert rule.name == "Mail from big client" and rule.enabled
    assert rule.events == ["ticket_created", "customer_replied"]
    assert rule.conditions_all == [{"field": "channel", "op": "is", "value": "email"},
                                   {"field": "requester_email", "op": "ends_with", "value": "@bigclient.com"}]
    assert rule.conditions_any == [{"field": "subject_or_description", "op": "contains_any_word",
                                    "value": "urgente factur*"}, {"field": "business_hours", "op": "is_false"}]
    assert rule.actions == [{"type": "set_priority", "value": "high"}, {"type": "set_group", "value": tier2.id},
                            {"type": "add_tags", "value": ["vip", "billing"]}]
    assert "Rule “Mail from big client” created" in client.get("/admin/rules").text


def test_a_refused_rule_shows_each_message_beside_its_row_and_keeps_everything_typed(client, db, admin):
    add_rule(db, admin)
    posted = {"name": "Big client to Tier 2", "events": ["ticket_created"], "enabled": "1",
              "conditions_all.0.field": "priority", "conditions_all.0.op": "above", "conditions_all.0.value": "urgent",
              "conditions_all.1.field": "hours_since_created", "conditions_all.1.op": "greater_than",
              "conditions_all.1.value": "soon",
              "conditions_any.0.field": "requester_domain", "conditions_any.0.op": "is",
              "conditions_any.0.value": "not a domain",
              "actions.0.type": "add_note", "actions.0.body": "Hello {{ ticket.colour }}",
              "actions.1.type": "send_email", "actions.1.to": "address", "actions.1.address": "",
              "actions.1.subject_en": "Hi", "actions.1.body_en": "Body", "actions.1.subject_es": "Hola",
              "actions.1.body_es": "Cuerpo", "do": "save"}
    response = client.post("/admin/rules/new", data=posted)
    assert response.status_code == 422
    page = response.text
    assert "The rule is not saved yet" in page

    def message_after(input_id: str) -> str:
        start = page.index(f'id="{input_id}"')
        return page[start:start + 1800]

    assert "Another rule already has this name." in message_after("rule-name")
    assert "Nothing is beyond this value: the rule would never fire." in page[page.index('id="row-conditions_all-0"'):
                                                                              page.index('id="row-conditions_all-1"')]
    assert "Enter a whole number of hours" in message_after("rule-conditions_all-1-value")
    assert "Enter a domain such as example.com." in message_after("rule-conditions_any-0-value")
    assert "Unknown placeholder {{ ticket.colour }}" in message_after("rule-actions-0-body")
    assert "Enter the e-mail address to send to." in message_after("rule-actions-1-address")
    # everything typed is back, each in its own input
    assert 'value="soon"' in page and 'value="not a domain"' in page and "Hello {{ ticket.colour }}</textarea>" in page
    assert '<option value="urgent" selected>' in page and '<option value="address" selected>' in page
    assert 'value="Hola"' in page and "Cuerpo</textarea>" in page
    assert names(db) == ["Big client to Tier 2"]


def test_add_a_condition_draws_one_more_empty_row_and_keeps_what_was_typed(client, db, admin):
    posted = form_of(VIP, **{"do": "add:conditions_all", "conditions_all.1.field": "",
                             "conditions_all.1.op": "", "conditions_all.1.value": ""})
    page = client.post("/admin/rules/new", data=posted)
    assert page.status_code == 200
    assert 'value="bigclient.com"' in page.text and 'value="Big client to Tier 2"' in page.text
    assert 'name="conditions_all.2.field"' in page.text and 'name="conditions_all.3.field"' not in page.text
    assert 'name="actions.1.type"' in page.text and 'name="actions.2.type"' not in page.text
    assert rules(db) == []  # nothing saved, nothing refused
    assert "The rule is not saved yet" not in page.text
    again = client.post("/admin/rules/new", data={**posted, "do": "add:actions"}).text
    assert 'name="actions.2.type"' in again


def test_remove_drops_that_row_only(client, admin):
    rule = {**VIP, "conditions_all": [{"field": "channel", "op": "is", "value": "email"},
                                      {"field": "requester_domain", "op": "is", "value": "bigclient.com"}]}
    page = client.post("/admin/rules/new", data=form_of(rule, do="remove:conditions_all.0")).text
    assert 'value="bigclient.com"' in page and 'name="conditions_all.0.value"' in page
    assert '<option value="email" selected>' not in page


def test_without_javascript_the_refresh_button_shows_the_operators_and_values_of_the_chosen_field(client, admin):
    posted = form_of(VIP, **{"conditions_all.1.field": "status", "conditions_all.1.op": "", "do": "refresh"})
    page = client.post("/admin/rules/new", data=posted).text
    row = page[page.index('id="row-conditions_all-1"'):page.index('id="row-conditions_all-2"')]
    assert ">changed to</option>" in row and '<option value="pending">Pending</option>' in row


def test_changing_a_field_redraws_its_row_with_operators_and_a_fitting_value_input(client, db, admin, tier2):
    row = client.get("/admin/rules/row", query_string={"conditions_any.4.field": "group", "conditions_any.4.op": "",
                                                       "conditions_any.4.value": ""},
                     headers={"HX-Request": "true"})
    assert row.status_code == 200 and "HX-Request" in row.headers["Vary"]
    assert row.text.strip().startswith('<div class="rule-row') and 'id="row-conditions_any-4"' in row.text
    assert ">is nobody</option>" not in row.text and ">is filled in</option>" in row.text
    assert f'<option value="{tier2.id}">Tier 2</option>' in row.text
    hours = client.get("/admin/rules/row", query_string={"conditions_all.0.field": "hours_since_updated"}).text
    assert 'type="number"' in hours and ">more than</option>" in hours
    none = client.get("/admin/rules/row", query_string={"conditions_all.0.field": "assignee",
                                                        "conditions_all.0.op": "unassigned"}).text
    assert 'name="conditions_all.0.value"' not in none and "No value needed." in none
    email = client.get("/admin/rules/row", query_string={"actions.2.type": "send_email"}).text
    for name in ("to", "address", "subject_en", "body_en", "subject_es", "body_es"):
        assert f'name="actions.2.{name}"' in email
    assert client.get("/admin/rules/row").status_code == 400


def test_what_was_picked_for_the_old_field_or_action_is_dropped_when_it_changes(client, db, admin, make, tier2):
    category = make.category(name="Billing")
    assert category.id == tier2.id  # the same number: it must not carry over from group to category
    row = client.get("/admin/rules/row", query_string={
        "conditions_all.0.field": "category", "conditions_all.0.op": "is", "conditions_all.0.value": str(tier2.id),
        "conditions_all.0.drawn": "group"}).text
    value = row.split('name="conditions_all.0.value"')[1].split("</select>")[0]
    assert f'<option value="{category.id}">Billing</option>' in value and '<option value="" selected>' in value
    assert 'name="conditions_all.0.drawn" value="category"' in row
    action = client.get("/admin/rules/row", query_string={
        "actions.0.type": "set_status", "actions.0.value": "high", "actions.0.drawn": "set_priority"}).text
    assert ">high</option>" not in action and '<option value="" selected>' in action
    # the same without JavaScript: the page drawn from the post, and what a save would check
    posted = {**form_of(VIP), "conditions_all.0.field": "channel", "conditions_all.0.drawn": "requester_domain",
              "do": "save"}
    saved = client.post("/admin/rules/new", data=posted)
    assert saved.status_code == 422 and "bigclient.com" not in saved.text
    assert rules(db) == []


def test_enter_in_a_text_box_saves(client, admin):
    page = client.get("/admin/rules/new").text
    first_button = re.search(r"<button[^>]*>", page[page.index('id="rule-editor"'):]).group(0)
    assert 'value="save"' in first_button


# ---- Editing and the version check --------------------------------------------------------------------------


def test_editing_shows_the_rule_and_saves_the_change(client, db, admin):
    rule = add_rule(db, admin)
    page = client.get(f"/admin/rules/{rule.id}").text
    assert 'value="bigclient.com"' in page and 'name="version" value="1"' in page
    response = client.post(f"/admin/rules/{rule.id}", data=form_of(
        {**VIP, "name": "Renamed"}, version="1", do="save"))
    assert response.status_code == 303
    assert names(db) == ["Renamed"] and rules(db)[0].version == 2


def test_a_rule_changed_meanwhile_is_not_overwritten_and_the_admin_keeps_their_text(client, db, admin, admin_user):
    rule = add_rule(db, admin)
    manage.update_rule(db, rule, {**VIP, "name": "Their name"}, expected_version=1, actor=admin_user,
                       now=utcnow())
    db.commit()
    mine = form_of({**VIP, "name": "My name", "conditions_all": [
        {"field": "requester_domain", "op": "is", "value": "mine.example"}]}, version="1", do="save")
    response = client.post(f"/admin/rules/{rule.id}", data=mine)
    assert response.status_code == 409
    page = response.text
    assert "Someone else saved this rule while you were editing it." in page
    assert "Their name" in page  # their version, summarised
    assert 'value="My name"' in page and 'value="mine.example"' in page
    assert names(db) == ["Their name"]
    # saving again, having seen the message, replaces their version knowingly
    assert 'name="version" value="2"' in page
    assert client.post(f"/admin/rules/{rule.id}", data={**mine, "version": "2"}).status_code == 303
    assert names(db) == ["My name"]


# ---- Switching, copying, moving, deleting --------------------------------------------------------------------


def test_switch_off_and_on_clears_the_engines_reason(client, db, admin):
    rule = add_rule(db, admin)
    off = client.post(f"/admin/rules/{rule.id}/enabled", data={"enabled": "0"}, follow_redirects=True)
    assert "switched off: it does nothing until you switch it on" in off.text
    assert not rules(db)[0].enabled
    rule = rules(db)[0]
    rule.disabled_reason = "Loop."
    db.commit()
    client.post(f"/admin/rules/{rule.id}/enabled", data={"enabled": "1"})
    assert rules(db)[0].enabled and rules(db)[0].disabled_reason is None


def test_duplicate_makes_a_switched_off_copy_right_after_it_and_opens_it(client, db, admin):
    first = add_rule(db, admin)
    add_rule(db, admin, name="Last")
    response = client.post(f"/admin/rules/{first.id}/duplicate")
    copy = next(r for r in rules(db) if r.name == "Big client to Tier 2 (copy)")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/admin/rules/{copy.id}")
    assert names(db) == ["Big client to Tier 2", "Big client to Tier 2 (copy)", "Last"]
    assert not copy.enabled and copy.conditions_all == VIP["conditions_all"]
    assert "switched off" in client.get(response.headers["Location"]).text


def test_move_up_and_down_changes_the_order_they_run_in(client, db, admin):
    a, b, c = (add_rule(db, admin, name=n) for n in ("A", "B", "C"))
    client.post(f"/admin/rules/{c.id}/move", data={"direction": "up"})
    assert names(db) == ["A", "C", "B"]
    client.post(f"/admin/rules/{a.id}/move", data={"direction": "down"})
    assert names(db) == ["C", "A", "B"]
    page = client.get("/admin/rules").text
    assert page.index(">C</a>") < page.index(">A</a>") < page.index(">B</a>")


def test_delete_asks_first_then_deletes(client, db, admin):
    rule = add_rule(db, admin)
    page = client.get("/admin/rules").text
    assert f'href="/admin/rules/{rule.id}/delete"' in page  # a link to the question, not a post
    question = client.get(f"/admin/rules/{rule.id}/delete")
    assert "Delete the rule “Big client to Tier 2”?" in question.text and "Keep it" in question.text
    assert names(db) == ["Big client to Tier 2"]
    done = client.post(f"/admin/rules/{rule.id}/delete", follow_redirects=True)
    assert "Rule “Big client to Tier 2” deleted." in done.text
    assert rules(db) == []


# ---- Export and import ------------------------------------------------------------------------------------------


def upload(client, content: bytes | str, mode: str = "add"):
    body = content.encode() if isinstance(content, str) else content
    return client.post("/admin/rules/import", data={"mode": mode, "file": (io.BytesIO(body), "rules.json")},
                       content_type="multipart/form-data")


def test_export_then_import_brings_the_same_rules_back(client, db, admin, tier2):
    add_rule(db, admin, actions=[{"type": "set_group", "value": tier2.id}])
    add_rule(db, admin, name="Second", enabled=False)
    exported = client.get("/admin/rules/export")
    assert exported.status_code == 200 and exported.mimetype == "application/json"
    assert exported.headers["Content-Disposition"].startswith('attachment; filename="mesa-rules-')
    data = json.loads(exported.text)
    assert [r["name"] for r in data] == ["Big client to Tier 2", "Second"]
    before = [(r.name, r.enabled, r.events, r.conditions_all, r.actions) for r in rules(db)]

    response = upload(client, exported.data, mode="replace")
    assert response.status_code == 303
    after = [(r.name, r.enabled, r.events, r.conditions_all, r.actions) for r in rules(db)]
    assert after == before
    assert "2 rules imported." in client.get("/admin/rules").text
    added = upload(client, json.dumps([{**data[0], "name": "Third"}]), mode="add")
    assert added.status_code == 303 and names(db) == ["Big client to Tier 2", "Second", "Third"]


def test_a_bad_import_says_which_rule_and_field_and_imports_nothing(client, db, admin):
    add_rule(db, admin)
    bad = [{**VIP, "name": "Fine"},
           {**VIP, "name": "Broken", "actions": [{"type": "set_priority", "value": "sky-high"}]},
           {**VIP, "name": "", "events": ["teleported"]}]
    response = upload(client, json.dumps(bad), mode="replace")
    assert response.status_code == 422
    page = response.text
    assert "Nothing was imported" in page
    assert "Rule 2 “Broken” — Actions, row 1, value:</strong> Choose one of the values offered." in page
    assert "Rule 3 — Name:</strong> Give the rule a name." in page
    assert "Rule 3 — When:</strong> There is no event called teleported." in page
    assert names(db) == ["Big client to Tier 2"]
    not_json = upload(client, "{not json")
    assert not_json.status_code == 422 and "The file is not valid JSON (line 1, column 2)" in not_json.text
    no_file = client.post("/admin/rules/import", data={"mode": "add"})
    assert no_file.status_code == 422 and "Choose the JSON file to import" in no_file.text
    assert names(db) == ["Big client to Tier 2"]


# ---- The audit trail ------------------------------------------------------------------------------------------


def test_the_audit_trail_shows_who_changed_which_rule_newest_first_a_page_at_a_time(client, db, admin, make):
    rule = add_rule(db, admin)
    client.post(f"/admin/rules/{rule.id}/enabled", data={"enabled": "0"})
    client.post(f"/admin/rules/{rule.id}/delete")
    page = client.get("/admin/rules/changes").text
    assert page.index("Deleted") < page.index("Switched off") < page.index("Created")
    assert page.count("Ada Admin") >= 3 and "Big client to Tier 2" in page
    assert "The rule as it was then" in page and "Requester&#39;s e-mail domain is bigclient.com" in page

    other = make.user(role="admin", name="Otto Other")
    for n in range(60):
        db.add(RuleChange(rule_id=None, rule_name=f"Old {n}", actor_id=other.id, at=utcnow() - timedelta(days=1),
                          what="updated"))
    db.commit()
    first = client.get("/admin/rules/changes").text
    assert "Page 1 of 2" in first and "Created" in first and "Old 59" in first and ">Old 0<" not in first
    second = client.get("/admin/rules/changes?page=2").text
    assert "Page 2 of 2" in second and "Otto Other" in second and "Old 0" in second and "Created" not in second
    assert client.get("/admin/rules/changes?page=x").status_code == 422


def test_the_editor_shows_the_rules_own_history(client, db, admin):
    rule = add_rule(db, admin)
    client.post(f"/admin/rules/{rule.id}/enabled", data={"enabled": "0"})
    page = client.get(f"/admin/rules/{rule.id}").text
    history = page[page.index("History of this rule"):]
    assert history.index("Switched off") < history.index("Created") and "Ada Admin" in history


# ---- CSRF -----------------------------------------------------------------------------------------------------


def csrf_login(csrf_client, user):
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', csrf_client.get("/login").text).group(1)
    csrf_client.post("/login", data={"email": user.email, "password": "correct-horse-battery", "csrf_token": token})


def test_every_post_needs_the_csrf_token_and_the_editor_keeps_the_text_when_it_is_missing(csrf_client, db,
                                                                                         admin_user):
    rule = add_rule(db, admin_user)
    csrf_login(csrf_client, admin_user)
    for url, data in ((f"/admin/rules/{rule.id}/enabled", {"enabled": "0"}), (f"/admin/rules/{rule.id}/delete", {}),
                      (f"/admin/rules/{rule.id}/duplicate", {}), (f"/admin/rules/{rule.id}/move", {"direction": "up"}),
                      ("/admin/rules/import", {"mode": "replace"})):
        assert csrf_client.post(url, data=data).status_code == 400, url
    typed = form_of({**VIP, "name": "Typed before the token went stale"}, do="save")
    refused = csrf_client.post("/admin/rules/new", data={**typed, "csrf_token": "stale"})
    assert refused.status_code == 400
    assert "Your form expired or was sent from elsewhere." in refused.text
    assert "Nothing was saved: everything you typed is below." in refused.text
    assert 'value="Typed before the token went stale"' in refused.text and 'value="bigclient.com"' in refused.text
    edit = csrf_client.post(f"/admin/rules/{rule.id}", data=form_of({**VIP, "name": "X"}, version="1", do="save"))
    assert edit.status_code == 400 and 'value="X"' in edit.text
    tried = csrf_client.post(f"/admin/rules/{rule.id}", data=form_of(VIP, version="1", do="test"))
    assert tried.status_code == 400 and "would fire" not in tried.text
    assert names(db) == ["Big client to Tier 2"] and rules(db)[0].enabled
    # the page it drew carries a fresh token that works
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', refused.text).group(1)
    saved = csrf_client.post("/admin/rules/new", data={**typed, "csrf_token": token})
    assert saved.status_code == 303 and "Typed before the token went stale" in names(db)


# ---- Test this rule -------------------------------------------------------------------------------------------


def test_test_this_rule_shows_each_condition_and_what_would_change_without_changing_anything(client, db, admin,
                                                                                              make):
    ticket = make.ticket(subject="Factura duplicada", description="Me cobraron dos veces", priority="normal")
    typed = {"name": "", "events": ["ticket_created"], "enabled": "1",
             "conditions_all.0.field": "subject_or_description", "conditions_all.0.op": "contains_any_word",
             "conditions_all.0.value": "factur*",
             "conditions_all.1.field": "channel", "conditions_all.1.op": "is", "conditions_all.1.value": "web",
             "conditions_any.0.field": "priority", "conditions_any.0.op": "is", "conditions_any.0.value": "urgent",
             "conditions_any.1.field": "language", "conditions_any.1.op": "is", "conditions_any.1.value": "en",
             "actions.0.type": "set_priority", "actions.0.value": "high",
             "do": "test", "test_ticket": ticket.ref}
    page = client.get("/admin/rules/new").text
    assert f'<option value="{ticket.ref}">' in page  # a recent ticket to pick
    response = client.post("/admin/rules/new", data=typed)
    assert response.status_code == 200
    result = response.text[response.text.index('class="rule-test-result"'):]
    assert f"The rule would fire on {ticket.ref}." in result
    assert re.search(r'is-match">.*?Subject or description contains any of the words factur\* — <strong>holds',
                     result, re.S)
    assert re.search(r'is-miss">.*?Priority is Urgent — <strong>does not hold', result, re.S)
    assert "<li>Would do this: Set the priority: High.</li>" in result
    assert 'value="factur*"' in response.text  # the form is still what was typed
    db.refresh(ticket)
    assert ticket.priority == "normal" and rules(db) == []

    by_ref = client.post("/admin/rules/new", data={**typed, "test_ticket": "", "test_ref": ticket.ref.lower(),
                                                   "conditions_all.1.value": "email"}).text
    assert f"The rule would not fire on {ticket.ref}." in by_ref
    assert "Channel is E-mail — <strong>does not hold" in by_ref
    missing = client.post("/admin/rules/new", data={**typed, "test_ticket": "", "test_ref": "MSA-NOPE-NOPE"})
    assert missing.status_code == 422 and "There is no ticket with the reference MSA-NOPE-NOPE." in missing.text
    invalid = client.post("/admin/rules/new", data={**typed, "actions.0.value": ""})
    assert invalid.status_code == 422 and "Correct the marked fields first" in invalid.text


def test_a_rule_typed_while_the_session_ended_is_carried_through_the_login(csrf_client, db, admin_user):
    csrf_login(csrf_client, admin_user)
    token = csrf_of(csrf_client.get("/admin/rules/new").text)
    accounts.end_sessions(admin_user)  # logged out elsewhere while typing
    db.commit()
    typed = form_of({**VIP, "name": "Typed during a long lunch",
                     "events": ["ticket_created", "customer_replied"]}, do="save", csrf_token=token)
    answer = csrf_client.post("/admin/rules/new", data=typed)
    assert answer.status_code == 401 and "data-carried-login" in answer.text
    page = log_in_again_from(csrf_client, admin_user, answer.text)
    assert "Send what you wrote" in page.text and "Typed during a long lunch" in page.text
    form = re.search(r'<form method="post" action="([^"]+)"[^>]*data-carried-send>(.*?)</form>', page.text, re.S)
    assert form.group(1) == "/admin/rules/new"
    # what the browser sends: every hidden input, both chosen events included
    assert csrf_client.post(form.group(1), data=MultiDict(hidden_fields(form.group(2)))).status_code == 303
    [rule] = rules(db)
    assert rule.name == "Typed during a long lunch" and rule.events == ["ticket_created", "customer_replied"]
    assert rule.conditions_all == VIP["conditions_all"] and rule.actions == VIP["actions"]


# ---- Apply a macro --------------------------------------------------------------------------------------------


def test_the_editor_offers_shared_macros_only_and_saves_a_rule_that_applies_one(client, db, admin, agnes):
    from portal.models import Macro

    shared = Macro(title="Welcome pack", body_en="Hello", actions=[])
    personal = Macro(title="Agnes private", body_en="Hi", actions=[], owner_id=agnes.id)
    db.add_all([shared, personal])
    db.commit()
    row = client.get("/admin/rules/row", query_string={"actions.0.type": "apply_macro"},
                     headers={"HX-Request": "true"}).text
    assert ">Apply a macro</option>" in row and f'<option value="{shared.id}">Welcome pack</option>' in row
    assert "Agnes private" not in row
    posted = form_of({**VIP, "actions": [{"type": "apply_macro", "value": str(personal.id)}]}, do="save")
    refused = client.post("/admin/rules/new", data=posted)
    assert refused.status_code == 422 and "is personal to one agent" in refused.text and rules(db) == []
    posted["actions.0.value"] = str(shared.id)
    assert client.post("/admin/rules/new", data=posted).status_code == 303
    [rule] = rules(db)
    assert rule.actions == [{"type": "apply_macro", "value": shared.id}]
    assert "Apply a macro: Welcome pack" in client.get("/admin/rules").text


def test_without_shared_macros_the_editor_says_how_to_get_one(client, admin):
    row = client.get("/admin/rules/row", query_string={"actions.0.type": "apply_macro"}).text
    assert "No shared macros yet" in row
