"""The rules language can say what the timers did, and the default automations are installed once: by the
migration, with the delays configured then, after the rules that exist, and never again once deleted."""

from __future__ import annotations

from datetime import datetime, timedelta

from alembic import command
from sqlalchemy import select, text

from portal import create_app
from portal.cli.db import alembic_config
from portal.models import Rule, RuleChange, Ticket
from portal.services import accounts, tickets
from portal.services.rules import automations, manage
from portal.services.rules.conditions import Facts, holds
from portal.services.rules.defaults import default_automations
from portal.services.rules.validation import validate

T0 = datetime(2026, 11, 2, 9, 0)
SOLVED = {"field": "status", "op": "is", "value": "solved"}
PENDING = {"field": "status", "op": "is", "value": "pending"}
OLD = {"field": "hours_since_solved", "op": "greater_than", "value": 48}
CLOSE = {"type": "set_status", "value": "closed"}
NOT_REMINDED = {"field": "reminder_sent", "op": "is_false"}
REMIND = {"type": "send_pending_reminder"}


def rule(conditions, actions, kind="automation", **extra) -> dict:
    return {"name": "Try", "kind": kind, "events": ["ticket_updated"], "conditions_all": conditions,
            "actions": actions, **extra}


# ---- What the language accepts ----------------------------------------------------------------------------


def test_the_defaults_are_valid_automations_that_end_themselves(db):
    for data in default_automations():
        clean, errors = validate(db, data)
        assert errors == {}, data["name"]
        assert clean["kind"] == "automation" and clean["once_per_ticket"] is False


def test_only_an_automation_closes_and_only_solved_tickets(db):
    _clean, errors = validate(db, rule([SOLVED], [CLOSE], kind="trigger"))
    assert "Only an automation closes tickets" in errors["actions.0.value"].text()
    _clean, errors = validate(db, rule([OLD], [CLOSE]))
    assert "closes only solved tickets" in errors["actions.0.value"].text()
    _clean, errors = validate(db, rule([PENDING, OLD], [CLOSE]))
    assert "closes only solved tickets" in errors["actions.0.value"].text()
    assert validate(db, rule([SOLVED, OLD], [CLOSE]))[1] == {}


def test_the_reminder_is_for_automations_on_pending_tickets_and_ends_itself(db):
    _clean, errors = validate(db, rule([PENDING, NOT_REMINDED], [REMIND], kind="trigger"))
    assert "sent by an automation, to pending tickets" in errors["actions.0"].text()
    _clean, errors = validate(db, rule([SOLVED, NOT_REMINDED], [REMIND]))
    assert "actions.0" in errors
    # Without "no reminder sent since the status changed", it would remind every hour.
    _clean, errors = validate(db, rule([PENDING], [REMIND]))
    assert list(errors) == ["once_per_ticket"]
    assert validate(db, rule([PENDING, NOT_REMINDED], [REMIND]))[1] == {}


def test_a_public_message_needs_both_languages(db):
    _clean, errors = validate(db, rule([PENDING, {"field": "hours_since_status_changed", "op": "greater_than",
                                                  "value": 10}], [
        {"type": "set_status", "value": "open"}, {"type": "add_public_message", "body_en": "Hello"}]))
    assert "actions.1.body_es" in errors


def test_the_sql_filter_agrees_with_python_on_the_new_conditions(db, make, agnes):
    """Time in the status and the reminder: the candidates SQL picks are exactly the tickets Python matches."""
    pending_long = make.ticket(now=T0)
    tickets.agent_reply(db, pending_long, body="?", submit_as="pending", actor=agnes, now=T0)
    pending_new = make.ticket(now=T0)
    tickets.agent_reply(db, pending_new, body="?", submit_as="pending", actor=agnes, now=T0 + timedelta(hours=70))
    make.ticket(now=T0)  # new since T0: its status began when it was filed
    db.commit()
    now = T0 + timedelta(hours=80)
    for conditions in ([{"field": "hours_since_status_changed", "op": "greater_than", "value": 72}],
                       [{"field": "hours_since_status_changed", "op": "less_than", "value": 72}],
                       [NOT_REMINDED], [{"field": "reminder_sent", "op": "is_true"}]):
        data = rule(conditions, [{"type": "add_tags", "value": ["x"]}])
        stored = Rule(name="Try", kind="automation", conditions_all=conditions, conditions_any=[], actions=[],
                      once_per_ticket=False)
        by_sql = {row.id for row in db.execute(automations.candidates_query(stored, now))}
        by_python = {t.id for t in db.scalars(select(Ticket)) if all(
            holds(c, Facts(db, t, events=set(), actor="system", previous_status=t.status, now=now))
            for c in data["conditions_all"])}
        assert by_sql == by_python, conditions
    assert pending_long.status_changed_at == T0 and pending_new.status_changed_at == T0 + timedelta(hours=70)


# ---- Installed once, by the migration -----------------------------------------------------------------------


def _fresh_app(tmp_path, **config):
    return create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"), **config})


def _names(app) -> list[str]:
    with app.extensions["engine"].connect() as conn:
        return list(conn.execute(text("SELECT name FROM rules ORDER BY position")).scalars())


def test_a_new_install_gets_the_defaults_once_with_its_configured_delays(tmp_path):
    app = _fresh_app(tmp_path, AUTO_CLOSE_DAYS=14)
    cfg = alembic_config(app)
    command.upgrade(cfg, "head")
    assert _names(app) == ["Close solved tickets after 14 days", "Solve pending tickets after 7 days",
                           "Remind the customer of a pending ticket after 3 days"]
    session = app.extensions["sessionmaker"]()
    close = session.scalar(select(Rule).where(Rule.name.like("Close%")))
    assert close.conditions_all[1] == {"field": "hours_since_solved", "op": "greater_than", "value": 14 * 24}
    installed = session.scalars(select(RuleChange.what).where(RuleChange.actor_id.is_(None))).all()
    assert installed == ["installed"] * 3
    # The admin deletes one; starting again, migrating again, running the old cron command: it stays deleted.
    assert close.created_by_id is None  # made by no person: "Mesa (automatically)" in the audit trail
    boss = accounts.create_user(session, email="boss@example.com", name="Boss", password="x" * 12, role="admin",
                                now=T0)
    manage.delete_rule(session, close, actor=boss, now=T0)
    session.commit()
    session.close()
    command.upgrade(cfg, "head")
    app.extensions["engine"].dispose()
    again = _fresh_app(tmp_path, AUTO_CLOSE_DAYS=14)
    result = again.test_cli_runner().invoke(args=["tickets", "auto-close", "--no-mail"])
    assert result.exit_code == 0, result.output
    assert _names(again) == ["Solve pending tickets after 7 days",
                             "Remind the customer of a pending ticket after 3 days"]
    again.extensions["engine"].dispose()


def test_an_existing_install_gets_them_after_its_rules_and_when_each_status_began(tmp_path):
    app = _fresh_app(tmp_path)
    cfg = alembic_config(app)
    command.upgrade(cfg, "a4c8d2e6f409")
    with app.extensions["engine"].begin() as conn:
        conn.execute(text("INSERT INTO users (id, email, name, password_hash, role, active, verified, skills, "
                          "created_at) VALUES (1, 'a@example.com', 'A', 'x', 'customer', 1, 1, '[]', "
                          "'2026-11-01 00:00:00.000000')"))
        for ticket_id, ref in ((1, "MSA-AAAA-AAAA"), (2, "MSA-BBBB-BBBB")):
            conn.execute(text(
                "INSERT INTO tickets (id, ref, subject, status, priority, channel, language, requester_id, "
                "created_at, updated_at, version) VALUES (:id, :ref, 'S', 'pending', 'normal', 'web', 'en', 1, "
                "'2026-11-01 00:00:00.000000', '2026-11-01 00:00:00.000000', 1)"), {"id": ticket_id, "ref": ref})
        for at, new in (("2026-11-02 00:00:00.000000", "open"), ("2026-11-03 00:00:00.000000", "pending")):
            conn.execute(text("INSERT INTO ticket_events (ticket_id, created_at, kind, field, old_value, new_value) "
                              "VALUES (1, :at, 'status_changed', 'status', 'x', :new)"), {"at": at, "new": new})
        conn.execute(text("INSERT INTO rules (name, position, enabled, kind, once_per_ticket, events, "
                          "conditions_all, conditions_any, actions, created_at, updated_at, version) VALUES "
                          "('Close solved tickets after 28 days', 1, 1, 'trigger', 0, '[]', '[]', '[]', '[]', "
                          "'2026-11-01 00:00:00.000000', '2026-11-01 00:00:00.000000', 1)"))
    command.upgrade(cfg, "head")
    session = app.extensions["sessionmaker"]()
    assert session.get(Ticket, 1).status_changed_at == datetime(2026, 11, 3)  # its latest status event
    assert session.get(Ticket, 2).status_changed_at == datetime(2026, 11, 1)  # none: when it was filed
    session.close()
    assert _names(app) == ["Close solved tickets after 28 days", "Close solved tickets after 28 days (Mesa)",
                           "Solve pending tickets after 7 days",
                           "Remind the customer of a pending ticket after 3 days"]
    command.downgrade(cfg, "a4c8d2e6f409")  # the timers' code again: the automations it cannot read go
    assert _names(app) == ["Close solved tickets after 28 days"]
    app.extensions["engine"].dispose()

