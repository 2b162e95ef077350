"""Automations (time rules): refused when they would act on the same tickets forever, run over the candidate
tickets only, act through the same actions as triggers (firings, events marked with the rule, triggers reacting),
once per ticket per run even with two runs at once, and from the CLI that cron calls."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.errors import Invalid
from portal.models import Rule, RuleFiring, Ticket, TicketEvent, TicketTag
from portal.services.rules import automations, manage
from portal.services.rules.validation import validate
from tests.concurrency import at_once

T0 = datetime(2026, 11, 2, 9, 0)



def hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


PENDING = {"field": "status", "op": "is", "value": "pending"}
NOT_REMINDED = {"field": "tags", "op": "has_not", "value": ["reminded"]}
QUIET_72H = {"field": "hours_since_updated", "op": "greater_than", "value": 72}
REMIND = {"type": "add_tags", "value": ["reminded"]}
NOTE = {"type": "add_note", "body": "Still waiting on {{ requester.name }}."}


def automation(name="Remind", *, conditions=(PENDING, NOT_REMINDED, QUIET_72H), actions=(REMIND, NOTE),
               once=False, any_of=(), **extra) -> dict:
    return {"name": name, "kind": "automation", "once_per_ticket": once, "conditions_all": list(conditions),
            "conditions_any": list(any_of), "actions": list(actions), **extra}


@pytest.fixture
def create(db, admin_user):
    def made(data: dict) -> Rule:
        rule = manage.create_rule(db, data, actor=admin_user, now=T0)
        db.commit()
        return rule
    return made


def pending_ticket(make, db, agnes, *, at=T0, **kwargs) -> Ticket:
    from portal.services import tickets

    ticket = make.ticket(now=at, **kwargs)
    tickets.agent_reply(db, ticket, body="Which version do you use?", submit_as="pending", actor=agnes, now=at)
    db.commit()
    return ticket


def run(db, now: datetime, **kwargs) -> automations.AutomationReport:
    report = automations.run(db, now=now, **kwargs)
    db.expire_all()
    return report


def firings(db, rule: Rule, ticket: Ticket | None = None) -> int:
    query = select(func.count()).select_from(RuleFiring).where(RuleFiring.rule_id == rule.id)
    if ticket is not None:
        query = query.where(RuleFiring.ticket_id == ticket.id)
    return db.scalar(query)


# ---- Never forever ------------------------------------------------------------------------------------------


def test_an_automation_that_would_act_forever_is_refused_with_what_to_add(db):
    data = automation(conditions=[PENDING, QUIET_72H], actions=[NOTE])
    clean, errors = validate(db, data)
    assert list(errors) == ["once_per_ticket"]
    message = errors["once_per_ticket"].text()
    assert "every hour, forever" in message and "At most once per ticket" in message


@pytest.mark.parametrize("conditions, actions", [
    ([PENDING, NOT_REMINDED], [REMIND, NOTE]),  # it tags what it looked for the lack of
    ([PENDING, QUIET_72H], [{"type": "set_priority", "value": "high"}]),  # any change moves "last changed"
    ([PENDING], [{"type": "set_status", "value": "open"}]),  # the status it looked for is gone
    ([{"field": "assignee", "op": "unassigned"}], [{"type": "set_assignee", "value": "auto"}]),
    ([{"field": "priority", "op": "below", "value": "high"}], [{"type": "set_priority", "value": "high"}]),
])
def test_an_automation_whose_action_ends_its_own_condition_is_accepted(db, conditions, actions):
    clean, errors = validate(db, automation(conditions=conditions, actions=actions))
    assert errors == {} and clean["kind"] == "automation" and clean["once_per_ticket"] is False


def test_a_note_alone_on_a_quiet_ticket_is_accepted_only_once_per_ticket(db):
    clean, errors = validate(db, automation(conditions=[PENDING, QUIET_72H], actions=[NOTE], once=True))
    assert errors == {} and clean["once_per_ticket"] is True


def test_an_automation_has_no_events_and_no_conditions_about_a_change(db):
    clean, errors = validate(db, automation(events=["ticket_created"], conditions=[
        PENDING, NOT_REMINDED, {"field": "status", "op": "changed_to", "value": "pending"},
        {"field": "actor", "op": "is", "value": "agent"}]))
    assert set(errors) == {"conditions_all.2", "conditions_all.3"}
    assert "use this condition in a trigger" in errors["conditions_all.2"].text()
    assert clean["events"] == []


def test_a_trigger_still_needs_events_and_is_the_default_kind(db):
    clean, errors = validate(db, {"name": "Old export", "conditions_all": [], "actions": [REMIND]})
    assert "events" in errors and clean["kind"] == "trigger" and clean["once_per_ticket"] is False


def test_the_kind_is_exported_and_an_unknown_kind_is_refused(db, admin_user, create):
    rule = create(automation())
    assert manage.export_rules(db, actor=admin_user)[0] | {} == manage.snapshot(rule)
    assert manage.snapshot(rule)["kind"] == "automation"
    with pytest.raises(Invalid) as refused:
        manage.create_rule(db, automation(name="Odd", kind="cron job"), actor=admin_user, now=T0)
    assert "kind" in refused.value.details["errors"]


# ---- Running ------------------------------------------------------------------------------------------------


def test_it_acts_on_matching_tickets_once_as_the_system_and_records_the_firing(db, make, agnes, create):
    rule = create(automation())
    quiet = pending_ticket(make, db, agnes)
    recent = pending_ticket(make, db, agnes, at=hours(60))  # pending for only 12 hours at the run
    report = run(db, hours(73))
    assert report.fired == {"Remind": [quiet.ref]} and report.errors == []
    db.refresh(quiet)
    assert quiet.tag_names == ["reminded"] and db.get(Ticket, recent.id).tag_names == []
    firing = db.scalar(select(RuleFiring).where(RuleFiring.rule_id == rule.id))
    assert firing.ticket_id == quiet.id and firing.event == "automation" and "reminded" in firing.summary
    # The next hour: the tag it added makes it no longer match.
    assert run(db, hours(74)).fired == {} and firings(db, rule, quiet) == 1


def test_a_postponed_ticket_is_left_alone_until_its_time(db, make, agnes, create):
    from portal.services import postpone

    create(automation())
    snoozed = pending_ticket(make, db, agnes)
    postpone.postpone(db, snoozed, hours(100), actor=agnes, now=hours(1))
    db.commit()
    assert run(db, hours(73)).fired == {}
    assert run(db, hours(101)).fired == {"Remind": [snoozed.ref]}  # its time has come: like any other ticket


def test_the_ticket_events_carry_the_automation(db, make, agnes, create):
    rule = create(automation())
    ticket = pending_ticket(make, db, agnes)
    run(db, hours(80))
    marked = db.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                  TicketEvent.created_at == hours(80))).all()
    assert marked and all(e.rule_id == rule.id and e.actor_id is None for e in marked)


def test_once_per_ticket_fires_once_even_when_it_still_matches(db, make, agnes, create):
    rule = create(automation(conditions=[PENDING, QUIET_72H], actions=[NOTE], once=True))
    ticket = pending_ticket(make, db, agnes)
    assert run(db, hours(73)).fired == {"Remind": [ticket.ref]}
    # Notes do not change the ticket's "last changed": it still matches, and the guard holds it back.
    assert run(db, hours(200)).fired == {} and firings(db, rule, ticket) == 1


def test_triggers_react_to_what_an_automation_changed(db, make, agnes, create):
    create({"name": "Reminded goes high", "events": ["ticket_updated"], "actions": [
        {"type": "set_priority", "value": "high"}], "conditions_all": [
        {"field": "tags", "op": "has", "value": ["reminded"]}]})
    create(automation())
    ticket = pending_ticket(make, db, agnes)
    run(db, hours(73))
    db.refresh(ticket)
    assert ticket.tag_names == ["reminded"] and ticket.priority == "high"


def test_a_ticket_change_does_not_run_an_automation_as_a_trigger(db, make, agnes, create):
    rule = create(automation(conditions=[NOT_REMINDED], actions=[REMIND]))
    ticket = make.ticket(now=T0)
    pending_ticket(make, db, agnes)
    db.refresh(ticket)
    assert ticket.tag_names == [] and firings(db, rule) == 0


def test_only_candidates_are_read_and_closed_tickets_never(db, make, agnes, create):
    create(automation(conditions=[{"field": "priority", "op": "is", "value": "urgent"}, NOT_REMINDED],
                      actions=[REMIND]))
    urgent = make.ticket(priority="urgent", now=T0)
    make.ticket(priority="urgent", status="closed", now=T0)
    for _ in range(3):
        make.ticket(priority="normal", now=T0)
    report = run(db, hours(1))
    assert report.checked == 1 and report.fired == {"Remind": [urgent.ref]}


def test_candidates_are_read_in_batches_and_all_are_reached(db, make, create):
    create(automation(conditions=[NOT_REMINDED], actions=[REMIND]))
    made = [make.ticket(now=T0) for _ in range(5)]
    report = run(db, hours(1), batch=2)
    assert sorted(report.fired["Remind"]) == sorted(t.ref for t in made) and report.checked == 5


def test_the_sql_filter_never_drops_a_ticket_python_would_match(db, make, create, agnes):
    """"Group is not 3" holds for a ticket with no group: SQL's != alone would miss it."""
    from portal.models import Group

    group = Group(name="Billing")
    db.add(group)
    db.commit()
    create(automation(conditions=[{"field": "group", "op": "is_not", "value": group.id},
                                  {"field": "language", "op": "is", "value": "es"}, NOT_REMINDED],
                      actions=[REMIND]))
    spanish = make.ticket(language="es", now=T0)
    db.execute(Ticket.__table__.update().where(Ticket.id == spanish.id).values(group_id=None))
    db.commit()
    make.ticket(language="en", now=T0)
    assert run(db, hours(1)).fired == {"Remind": [spanish.ref]}


def test_tickets_it_already_tagged_are_not_even_read(db, make, create):
    """"Tags include none of" is answered by SQL: an automation that tags what it acted on reads only the
    tickets it has not tagged yet, hour after hour (at 1M tickets, 10,000 fewer reads a run)."""
    create(automation(conditions=[{"field": "priority", "op": "is", "value": "urgent"}, NOT_REMINDED],
                      actions=[REMIND]))
    fresh = make.ticket(priority="urgent", now=T0)
    for tags in (["reminded"], ["reminded", "vip"]):
        make.ticket(priority="urgent", now=T0).tags.extend(TicketTag(tag=tag) for tag in tags)
    db.commit()
    first = run(db, hours(1))
    assert first.checked == 1 and first.fired == {"Remind": [fresh.ref]}
    second = run(db, hours(2))
    assert second.checked == 0 and second.fired == {}


def test_tags_that_must_be_there_are_looked_up_exactly_as_the_conditions_check_them(db, make, create):
    create(automation(conditions=[{"field": "tags", "op": "has", "value": ["vip", "gold"]}],
                      actions=[{"type": "remove_tags", "value": ["vip", "gold"]}]))
    vip = make.ticket(now=T0)
    vip.tags.extend([TicketTag(tag="vip"), TicketTag(tag="callback")])
    make.ticket(now=T0).tags.append(TicketTag(tag="vip-lite"))  # another tag, not a longer spelling of it
    make.ticket(now=T0)
    db.commit()
    report = run(db, hours(1))
    assert report.checked == 1 and report.fired == {"Remind": [vip.ref]}
    db.refresh(vip)
    assert vip.tag_names == ["callback"]


def test_a_failing_automation_is_disabled_with_the_reason(db, make, create, monkeypatch):
    from portal.services.rules import actions as acts

    rule = create(automation(conditions=[NOT_REMINDED], actions=[REMIND]))
    make.ticket(now=T0)
    make.ticket(now=T0)

    def broken(acting, action):
        raise RuntimeError("disk full")
    monkeypatch.setattr(acts, "apply", broken)
    report = run(db, hours(1))
    db.refresh(rule)
    assert report.fired == {} and not rule.enabled and "disk full" in rule.disabled_reason


def test_a_condition_that_cannot_be_evaluated_disables_the_automation(db, make, create):
    rule = create(automation(conditions=[NOT_REMINDED], actions=[REMIND]))
    db.execute(Rule.__table__.update().where(Rule.id == rule.id).values(
        conditions_all=[{"field": "moon_phase", "op": "is", "value": "full"}], version=rule.version + 1))
    db.commit()
    make.ticket(now=T0)
    report = run(db, hours(1))
    db.refresh(rule)
    assert report.fired == {} and not rule.enabled and "could not be evaluated" in rule.disabled_reason


# ---- Two runs at once ---------------------------------------------------------------------------------------


def test_two_runs_at_once_act_on_each_ticket_once(app, db, make, create):
    rule = create(automation(conditions=[NOT_REMINDED], actions=[REMIND, NOTE]))
    made = [make.ticket(now=T0) for _ in range(6)]
    reports = at_once(app, lambda session: automations.run(session, now=hours(1)))
    assert len(reports) == 2
    acted = reports[0].fired.get("Remind", []) + reports[1].fired.get("Remind", [])
    assert sorted(acted) == sorted(t.ref for t in made)
    db.expire_all()
    for ticket in made:
        assert firings(db, rule, ticket) == 1
        notes = db.scalar(select(func.count()).select_from(TicketEvent).where(
            TicketEvent.ticket_id == ticket.id, TicketEvent.rule_id == rule.id, TicketEvent.kind == "note_added"))
        assert notes <= 1


def test_a_ticket_changed_after_it_was_read_is_left_to_the_next_run(db, make, create, agnes):
    from portal.services import tickets

    create(automation())
    ticket = pending_ticket(make, db, agnes)
    rule = db.scalar(select(Rule))
    report = automations.AutomationReport()
    version = ticket.version
    tickets.agent_reply(db, ticket, body="Any news?", submit_as="pending", actor=agnes, now=hours(73))
    db.commit()
    outcome = automations._one(db, automations.engine.load(rule), False, ticket.id, version, report,
                               automations.engine.Settings(), hours(73))
    assert outcome == "skipped" and report.fired == {}


# ---- The command cron runs ----------------------------------------------------------------------------------


def test_the_cli_runs_the_automations(runner, db, make, agnes, create):
    create(automation())
    ticket = pending_ticket(make, db, agnes)
    result = runner.invoke(args=["rules", "run-automations", "--now", hours(80).isoformat()])
    assert result.exit_code == 0, result.output
    assert f"Remind: 1 ticket(s): {ticket.ref}" in result.output
    assert "Automations acted on 1 ticket(s) out of 1 candidate(s)." in result.output
    db.expire_all()
    assert db.get(Ticket, ticket.id).tag_names == ["reminded"]
