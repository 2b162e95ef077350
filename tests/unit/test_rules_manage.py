"""Managing rules: validation with clear messages on the form's fields (hostile input included), admins only,
ordering, duplicating, version conflicts, the audit trail, firing counts, export and import (also by CLI)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.clock import utcnow
from portal.errors import Conflict, Invalid, NotAllowed
from portal.models import Group, Rule, RuleChange, RuleFiring
from portal.services.rules import catalog, manage
from portal.services.rules.validation import validate

GOOD = {"name": "VIP routing", "events": ["ticket_created"],
        "conditions_all": [{"field": "requester_domain", "op": "is", "value": "@BigClient.com"}],
        "actions": [{"type": "set_priority", "value": "high"}]}


def problems(db, data) -> dict[str, str]:
    return {key: problem.text() for key, problem in validate(db, data)[1].items()}


def test_a_good_rule_is_cleaned(db):
    clean, errors = validate(db, GOOD)
    assert errors == {}
    assert clean == {"name": "VIP routing", "kind": "trigger", "enabled": True, "once_per_ticket": False,
                     "events": ["ticket_created"],
                     "conditions_all": [{"field": "requester_domain", "op": "is", "value": "bigclient.com"}],
                     "conditions_any": [], "actions": [{"type": "set_priority", "value": "high"}]}


@pytest.mark.parametrize(("change", "key", "message"), [
    ({"name": "  "}, "name", "Give the rule a name."),
    ({"name": "x" * 121}, "name", "Use at most 120 characters."),
    ({"events": []}, "events", "Choose at least one event that runs the rule."),
    ({"events": ["ticket_exploded"]}, "events", "There is no event called ticket_exploded."),
    ({"actions": []}, "actions", "Add at least one action: a rule that does nothing is not a rule."),
    ({"conditions_all": [{"field": "moon", "op": "is", "value": "full"}]}, "conditions_all.0.field",
     "Choose a field from the list."),
    ({"conditions_all": [{"field": "channel", "op": "contains_phrase", "value": "x"}]}, "conditions_all.0.op",
     "Choose an operator this field offers."),
    ({"conditions_all": [{"field": "channel", "op": "is", "value": "pigeon"}]}, "conditions_all.0.value",
     "Choose one of the values offered."),
    ({"conditions_any": [{"field": "channel", "op": "is", "value": ["web"]}]}, "conditions_any.0.value",
     "Enter text here."),
    ({"conditions_all": [{"field": "group", "op": "is", "value": 999}]}, "conditions_all.0.value",
     "Choose one of the groups offered."),
    ({"conditions_all": [{"field": "field:nope", "op": "present"}]}, "conditions_all.0.field",
     "There is no custom field with the key nope."),
    ({"conditions_all": [{"field": "hours_since_created", "op": "greater_than", "value": -1}]},
     "conditions_all.0.value", "Enter a whole number of hours from 0 to 43920."),
    ({"conditions_all": [{"field": "requester_domain", "op": "is", "value": "not a domain"}]},
     "conditions_all.0.value", "Enter a domain such as example.com."),
    ({"actions": [{"type": "launch_rocket"}]}, "actions.0.type", "Choose an action from the list."),
    ({"actions": [{"type": "set_assignee", "value": 12345}]}, "actions.0.value",
     "Choose one of the active agents offered."),
    ({"actions": [{"type": "call_webhook", "value": 7}]}, "actions.0.value",
     "Choose one of the webhooks registered under Admin → Webhooks."),
    ({"actions": [{"type": "add_tags", "value": "ok, not/ok"}]}, "actions.0.value",
     "A tag is one word of letters, digits, dashes or dots, at most 40 characters."),
    ({"actions": [{"type": "add_note", "body": "Hi {{ config.SECRET_KEY }}"}]}, "actions.0.body",
     "Unknown placeholder {{ config.SECRET_KEY }}: use ticket.ref, ticket.subject, ticket.url, ticket.status, "
     "ticket.priority, requester.name, requester.email, assignee.name, group.name, rule.name."),
    ({"actions": [{"type": "send_email", "to": "address", "subject_en": "a", "body_en": "b", "subject_es": "c",
                   "body_es": "d"}]}, "actions.0.address", "Enter the e-mail address to send to."),
    ({"actions": [{"type": "send_email", "to": "requester", "subject_en": "a", "body_en": "b"}]},
     "actions.0.subject_es", "Enter a value."),
])
def test_mistakes_are_named_on_their_field(db, change, key, message):
    assert problems(db, {**GOOD, **change})[key] == message


@pytest.mark.parametrize(("conditions", "key"), [
    ([{"field": "status", "op": "is", "value": "open"}, {"field": "status", "op": "is", "value": "pending"}],
     "conditions_all.1"),
    ([{"field": "channel", "op": "is_not", "value": "web"}, {"field": "channel", "op": "is", "value": "web"}],
     "conditions_all.1"),
    ([{"field": "assignee", "op": "unassigned"}, {"field": "assignee", "op": "assigned"}], "conditions_all.1"),
    ([{"field": "tags", "op": "has", "value": ["vip"]}, {"field": "tags", "op": "has_not", "value": ["vip"]}],
     "conditions_all.1"),
    ([{"field": "hours_since_created", "op": "greater_than", "value": 10},
      {"field": "hours_since_created", "op": "less_than", "value": 5}], "conditions_all.1"),
    ([{"field": "priority", "op": "above", "value": "normal"}, {"field": "priority", "op": "below", "value": "high"}],
     "conditions_all.1"),
    ([{"field": "priority", "op": "above", "value": "urgent"}], "conditions_all.0"),
    ([{"field": "business_hours", "op": "is_true"}, {"field": "business_hours", "op": "is_false"}],
     "conditions_all.1"),
])
def test_conditions_that_can_never_all_hold_are_refused(db, conditions, key):
    found = problems(db, {**GOOD, "conditions_all": conditions})
    assert list(found) == [key]
    assert "never" in found[key]


def test_the_same_conditions_in_any_of_are_fine(db):
    any_of = [{"field": "status", "op": "is", "value": "open"}, {"field": "status", "op": "is", "value": "pending"}]
    assert problems(db, {**GOOD, "conditions_any": any_of}) == {}


def test_contradicting_actions_are_refused(db, agnes):
    found = problems(db, {**GOOD, "actions": [
        {"type": "set_assignee", "value": agnes.id}, {"type": "set_assignee", "value": "auto"},
        {"type": "set_priority", "value": "low"}, {"type": "set_priority", "value": "high"},
        {"type": "add_tags", "value": "vip"}, {"type": "remove_tags", "value": "vip"}]})
    assert found == {"actions.1": "Assign to one agent or automatically, not both.",
                     "actions.3": "This repeats action 3: a rule sets each thing once.",
                     "actions.5": "The rule adds and removes the same tag: vip."}


@pytest.mark.parametrize("hostile", [
    None, [], "rule", 12, {"name": {"$gt": ""}, "events": "ticket_created", "actions": "all"},
    {**GOOD, "conditions_all": [{"field": "channel", "op": "is", "value": "web"}] * 1000},
    {**GOOD, "actions": [{"type": "add_note", "body": "x" * 1_000_000}]},
    {**GOOD, "actions": [{"type": "set_group", "value": 2**70}]},
    {**GOOD, "actions": [{"type": "set_group", "value": "99999999999999999999999"}]},
    {**GOOD, "actions": [{"type": "set_group", "value": True}]},
    {**GOOD, "conditions_all": [{"field": "subject_or_description", "op": "contains_any_word",
                                 "value": " ".join(f"w{n}" for n in range(500))}]},
    {**GOOD, "events": ["ticket_created"] * 10_000},
    {**GOOD, "conditions_all": [[["deep"]]], "actions": [None]},
])
def test_hostile_input_gets_messages_not_a_crash(db, hostile):
    clean, errors = validate(db, hostile)
    assert errors


def test_agents_and_customers_may_not_manage_rules(db, agnes, alice, admin_user):
    rule = manage.create_rule(db, GOOD, actor=admin_user, now=utcnow())
    calls = [
        lambda who: manage.list_rules(db, actor=who),
        lambda who: manage.get_rule(db, rule.id, actor=who),
        lambda who: manage.create_rule(db, {**GOOD, "name": "Other"}, actor=who, now=utcnow()),
        lambda who: manage.update_rule(db, rule, GOOD, expected_version=rule.version, actor=who, now=utcnow()),
        lambda who: manage.delete_rule(db, rule, actor=who, now=utcnow()),
        lambda who: manage.duplicate_rule(db, rule, actor=who, now=utcnow()),
        lambda who: manage.set_enabled(db, rule, False, actor=who, now=utcnow()),
        lambda who: manage.move_rule(db, rule, direction="up", actor=who, now=utcnow()),
        lambda who: manage.firing_counts(db, actor=who, now=utcnow()),
        lambda who: manage.recent_changes(db, actor=who),
        lambda who: manage.export_rules(db, actor=who),
        lambda who: manage.import_rules(db, [GOOD], actor=who, now=utcnow()),
    ]
    for who in (agnes, alice, None):
        for call in calls:
            with pytest.raises(NotAllowed):
                call(who)
    assert db.scalar(select(Rule.enabled)) is True


def test_create_edit_with_version_check_and_the_audit_trail(db, admin_user, make):
    other_admin = make.user(role="admin", name="Otto")
    rule = manage.create_rule(db, GOOD, actor=admin_user, now=utcnow())
    seen = rule.version
    manage.update_rule(db, rule, {**GOOD, "name": "VIP routing v2"}, expected_version=seen, actor=other_admin,
                       now=utcnow())
    with pytest.raises(Conflict):
        manage.update_rule(db, rule, {**GOOD, "name": "Stale"}, expected_version=seen, actor=admin_user,
                           now=utcnow())
    with pytest.raises(Invalid) as invalid:
        manage.update_rule(db, rule, {**GOOD, "events": []}, expected_version=rule.version, actor=admin_user,
                           now=utcnow())
    assert "events" in invalid.value.details["errors"]
    db.commit()
    trail = [(c.what, c.rule_name, c.actor_id) for c in manage.recent_changes(db, actor=admin_user)]
    assert trail == [("updated", "VIP routing v2", other_admin.id), ("created", "VIP routing", admin_user.id)]
    assert rule.updated_by_id == other_admin.id


def test_order_duplicate_enable_and_delete(db, admin_user):
    first = manage.create_rule(db, GOOD, actor=admin_user, now=utcnow())
    second = manage.create_rule(db, {**GOOD, "name": "Second"}, actor=admin_user, now=utcnow())
    copy = manage.duplicate_rule(db, first, actor=admin_user, now=utcnow())
    names = lambda: [(r.name, r.position, r.enabled) for r in manage.list_rules(db, actor=admin_user)]  # noqa: E731
    assert names() == [("VIP routing", 1, True), ("VIP routing (copy)", 2, False), ("Second", 3, True)]
    manage.move_rule(db, second, direction="up", actor=admin_user, now=utcnow())
    assert [n for n, _p, _e in names()] == ["VIP routing", "Second", "VIP routing (copy)"]
    manage.move_rule(db, copy, to=1, actor=admin_user, now=utcnow())
    assert [n for n, _p, _e in names()] == ["VIP routing (copy)", "VIP routing", "Second"]
    first.disabled_reason = "Loop: ..."
    manage.set_enabled(db, first, False, actor=admin_user, now=utcnow())
    manage.set_enabled(db, first, True, actor=admin_user, now=utcnow())
    assert first.disabled_reason is None
    manage.delete_rule(db, copy, actor=admin_user, now=utcnow())
    assert names() == [("VIP routing", 1, True), ("Second", 2, True)]
    db.commit()
    whats = [c.what for c in db.scalars(select(RuleChange).order_by(RuleChange.id))]
    assert whats == ["created", "created", "duplicated", "reordered", "reordered", "disabled", "enabled", "deleted"]


def test_firing_counts_cover_the_last_seven_days(db, admin_user, make):
    rule = manage.create_rule(db, GOOD, actor=admin_user, now=utcnow())
    ticket = make.ticket()
    for days_ago in (0, 1, 6, 8):
        db.add(RuleFiring(rule_id=rule.id, ticket_id=ticket.id, fired_at=utcnow() - timedelta(days=days_ago),
                          event="ticket_created", summary=""))
    db.commit()
    assert manage.firing_counts(db, actor=admin_user, now=utcnow()) == {rule.id: 3}


def test_export_and_import_round_trip_all_or_nothing(db, admin_user):
    group = Group(name="Tier 2")
    db.add(group)
    db.commit()
    manage.create_rule(db, GOOD, actor=admin_user, now=utcnow())
    manage.create_rule(db, {**GOOD, "name": "To tier 2", "enabled": False,
                            "actions": [{"type": "set_group", "value": group.id}]}, actor=admin_user, now=utcnow())
    exported = json.loads(json.dumps(manage.export_rules(db, actor=admin_user)))
    with pytest.raises(Invalid) as clash:
        manage.import_rules(db, exported, mode="add", actor=admin_user, now=utcnow())
    assert set(clash.value.details["errors"]) == {"rules.0.name", "rules.1.name"}
    broken = [exported[0] | {"name": "New one"}, exported[1] | {"name": "Bad", "events": []}]
    with pytest.raises(Invalid) as invalid:
        manage.import_rules(db, broken, mode="add", actor=admin_user, now=utcnow())
    assert list(invalid.value.details["errors"]) == ["rules.1.events"]
    assert len(manage.list_rules(db, actor=admin_user)) == 2  # nothing was added
    manage.import_rules(db, exported, mode="replace", actor=admin_user, now=utcnow())
    db.commit()
    assert manage.export_rules(db, actor=admin_user) == exported
    assert [c.what for c in manage.recent_changes(db, actor=admin_user, limit=4)] == [
        "imported", "imported", "deleted", "deleted"]


def test_cli_export_then_import(runner, db, admin_user, tmp_path):
    manage.create_rule(db, GOOD, actor=admin_user, now=utcnow())
    db.commit()
    result = runner.invoke(args=["rules", "export"])
    assert result.exit_code == 0, result.output
    path = tmp_path / "rules.json"
    path.write_text(result.output.replace("VIP routing", "VIP routing (imported)"), encoding="utf-8")
    imported = runner.invoke(args=["rules", "import", str(path)])
    assert imported.exit_code == 0 and "Imported 1 rule" in imported.output
    again = runner.invoke(args=["rules", "import", str(path)])
    assert again.exit_code == 1 and "rules.0.name: Another rule already has this name." in again.output
    replaced = runner.invoke(args=["rules", "import", str(path), "--replace"])
    assert replaced.exit_code == 0
    db.expire_all()
    assert [r.name for r in db.scalars(select(Rule))] == ["VIP routing (imported)"]


def test_every_operator_and_action_has_a_label():
    for entry in (*catalog.CONDITION_FIELDS.values(), catalog.CUSTOM_FIELD):
        assert entry.label and all(op.label for op in entry.operators)
    assert all(action.label and all(p.label for p in action.params) for action in catalog.ACTION_TYPES.values())
    assert catalog.ACTION_TYPES["apply_macro"].params[0].kind == "macro"  # shared macros, checked by id
