"""What the timers did, done by the default automations that replaced them (services.rules.defaults), with an
injected clock: auto-close, the pending reminder once per pending period, auto-solve with a message in the
ticket's language; run twice, and twice at once; editing the days; the old cron command."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.models import Message, Notification, Rule, RuleFiring, Ticket, TicketEvent
from portal.services import tickets
from portal.services.rules import automations, manage
from portal.services.rules.defaults import AUTO_SOLVE_MESSAGE, REMINDER_EVENT, Delays, default_automations
from tests.concurrency import at_once

T0 = datetime(2026, 11, 2, 9, 0, 0)
CLOSE = "Close solved tickets after 28 days"
SOLVE = "Solve pending tickets after 7 days"
REMIND = "Remind the customer of a pending ticket after 3 days"



def days(n: float) -> datetime:
    return T0 + timedelta(days=n)


def run(db, at: datetime) -> automations.AutomationReport:
    report = automations.run(db, now=at)
    db.expire_all()
    return report


def acted(report: automations.AutomationReport, name: str) -> list[str]:
    return report.fired.get(name, [])


def reload(db, ticket) -> Ticket:
    db.expire_all()
    return db.get(Ticket, ticket.id)


def kinds(db, ticket, kind: str) -> int:
    return db.scalar(select(func.count()).select_from(TicketEvent)
                     .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == kind))


def mails(db, ticket, kind: str) -> int:
    return db.scalar(select(func.count()).select_from(Notification)
                     .where(Notification.ticket_id == ticket.id, Notification.kind == kind))


@pytest.fixture
def defaults(db, admin_user) -> dict[str, Rule]:
    """The default automations, as the migration installs them (with the default delays)."""
    made = {}
    for data in default_automations():
        made[data["name"]] = manage.create_rule(db, data, actor=admin_user, now=T0)
    db.commit()
    return made


@pytest.fixture
def pending_ticket(db, make, alice, agnes, defaults):
    ticket = make.ticket(requester=alice, now=T0)
    tickets.agent_reply(db, ticket, body="Which light is red?", submit_as="pending", actor=agnes, now=T0)
    db.commit()
    return ticket


# ---- auto-close ----


def test_solved_ticket_stays_solved_for_28_days_and_then_closes(db, make, alice, defaults):
    ticket = make.ticket(requester=alice, status="solved", now=T0)
    assert acted(run(db, days(28) - timedelta(hours=1)), CLOSE) == []
    assert reload(db, ticket).status == "solved"
    assert acted(run(db, days(28) + timedelta(hours=1)), CLOSE) == [ticket.ref]
    ticket = reload(db, ticket)
    assert ticket.status == "closed" and ticket.closed_at == days(28) + timedelta(hours=1)
    # The history reads as the timer's did: closed automatically, by no person; the customer is told.
    closed = db.scalar(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                 TicketEvent.kind == "auto_closed"))
    assert closed.actor_id is None and closed.rule_id == defaults[CLOSE].id
    assert closed.old_value == "solved" and closed.new_value == "closed"
    mail = db.scalar(select(Notification).where(Notification.ticket_id == ticket.id,
                                                Notification.kind == "status_closed"))
    assert mail is not None and mail.context["auto"] is True


def test_the_customer_sees_it_was_closed_automatically(client, db, make, alice, defaults):
    from tests.conftest import login

    ticket = make.ticket(requester=alice, status="solved", now=T0)
    run(db, days(29))
    login(client, alice)
    page = client.get(f"/tickets/{ticket.ref}")
    assert "The ticket was closed automatically." in page.text


def test_running_twice_closes_and_mails_once(db, make, alice, defaults):
    ticket = make.ticket(requester=alice, status="solved", now=T0)
    run(db, days(30))
    second = run(db, days(30))
    assert second.fired == {} and second.notifications == []
    assert kinds(db, ticket, "auto_closed") == 1 and mails(db, ticket, "status_closed") == 1


# ---- pending: reminder, then auto-solve ----


def test_pending_ticket_is_reminded_once_after_3_days(db, pending_ticket):
    assert acted(run(db, days(2.9)), REMIND) == []
    assert acted(run(db, days(3) + timedelta(hours=1)), REMIND) == [pending_ticket.ref]
    assert acted(run(db, days(4)), REMIND) == []
    assert acted(run(db, days(6)), REMIND) == []
    assert kinds(db, pending_ticket, REMINDER_EVENT) == 1
    assert mails(db, pending_ticket, "pending_reminder") == 1
    reminder = db.scalar(select(Notification).where(Notification.kind == "pending_reminder"))
    assert reminder.context["days"] == 3
    assert reload(db, pending_ticket).status == "pending"


def test_a_new_pending_period_gets_a_new_reminder(db, pending_ticket, alice, agnes):
    run(db, days(3.1))
    ticket = reload(db, pending_ticket)
    tickets.customer_reply(db, ticket, body="The red one, at the left.", actor=alice, now=days(4))
    tickets.agent_reply(db, ticket, body="And now?", submit_as="pending", actor=agnes, now=days(5))
    db.commit()
    assert acted(run(db, days(7)), REMIND) == []  # two days into the new period
    assert acted(run(db, days(8.1)), REMIND) == [ticket.ref]
    assert kinds(db, ticket, REMINDER_EVENT) == 2
    assert mails(db, ticket, "pending_reminder") == 2


def test_pending_ticket_is_solved_after_7_days_with_a_public_message(db, pending_ticket):
    assert acted(run(db, days(6.9)), SOLVE) == []
    report = run(db, days(7) + timedelta(hours=1))
    assert acted(report, SOLVE) == [pending_ticket.ref] and acted(report, REMIND) == []
    ticket = reload(db, pending_ticket)
    assert ticket.status == "solved" and ticket.solved_at == days(7) + timedelta(hours=1)
    last = db.scalars(select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id.desc())).first()
    assert last.public and last.author_id is None
    assert last.body == AUTO_SOLVE_MESSAGE["en"].format(days=7) and "7 days" in last.body
    solved_mail = db.scalars(select(Notification).where(Notification.kind == "status_solved")).all()
    assert len(solved_mail) == 1 and solved_mail[0].context["auto"] is True  # the message rides in it
    assert solved_mail[0].context["message_id"] == last.id
    assert run(db, days(8)).fired == {}
    assert kinds(db, ticket, "auto_solved") == 1


def test_auto_solve_message_is_written_in_the_tickets_language(db, make, alice, agnes, runner, defaults):
    ticket = make.ticket(requester=alice, language="es", now=T0)
    tickets.agent_reply(db, ticket, body="¿Qué luz está en rojo?", submit_as="pending", actor=agnes, now=T0)
    db.commit()
    result = runner.invoke(args=["tickets", "auto-close", "--now", days(7.1).isoformat(), "--no-mail"])
    assert result.exit_code == 0, result.output
    assert f"{SOLVE}: 1 ticket(s): {ticket.ref}" in result.output
    body = db.scalars(select(Message.body).where(Message.ticket_id == ticket.id).order_by(Message.id.desc())).first()
    assert body == AUTO_SOLVE_MESSAGE["es"].format(days=7)
    assert "7 días" in body and "solicitud" in body


def test_reminder_is_skipped_when_the_ticket_is_already_due_to_be_solved(db, pending_ticket):
    report = run(db, days(10))  # cron did not run for ten days
    assert acted(report, SOLVE) == [pending_ticket.ref] and acted(report, REMIND) == []
    assert mails(db, pending_ticket, "pending_reminder") == 0


def test_an_unassigned_pending_ticket_is_solved_too(db, pending_ticket):
    """The system's pending timeout, not an agent's "solve": it needs no assignee."""
    db.execute(Ticket.__table__.update().where(Ticket.id == pending_ticket.id).values(assignee_id=None))
    db.commit()
    assert acted(run(db, days(8)), SOLVE) == [pending_ticket.ref]
    assert reload(db, pending_ticket).status == "solved"


# ---- the admin's say ----


def test_editing_the_days_changes_when_tickets_close(db, make, alice, admin_user, defaults):
    rule = defaults[CLOSE]
    data = manage.snapshot(rule) | {"name": "Close solved tickets after 7 days",
                                    "conditions_all": [{"field": "status", "op": "is", "value": "solved"},
                                                       {"field": "hours_since_solved", "op": "greater_than",
                                                        "value": 7 * 24}]}
    manage.update_rule(db, rule, data, expected_version=rule.version, actor=admin_user, now=T0)
    db.commit()
    ticket = make.ticket(requester=alice, status="solved", now=T0)
    assert acted(run(db, days(6.9)), "Close solved tickets after 7 days") == []
    assert acted(run(db, days(7.1)), "Close solved tickets after 7 days") == [ticket.ref]
    assert reload(db, ticket).status == "closed"


def test_a_disabled_default_does_nothing(db, make, alice, admin_user, defaults):
    manage.set_enabled(db, defaults[CLOSE], False, actor=admin_user, now=T0)
    db.commit()
    ticket = make.ticket(requester=alice, status="solved", now=T0)
    assert run(db, days(40)).fired == {}
    assert reload(db, ticket).status == "solved"


def test_configured_delays_are_used_when_the_defaults_are_installed():
    rules = default_automations(Delays.from_config({"AUTO_CLOSE_DAYS": 14, "PENDING_REMINDER_DAYS": "1",
                                                    "PENDING_AUTO_SOLVE_DAYS": 5}))
    assert [r["name"] for r in rules] == ["Close solved tickets after 14 days", "Solve pending tickets after 5 days",
                                          "Remind the customer of a pending ticket after 1 day"]
    assert rules[0]["conditions_all"][1]["value"] == 14 * 24 and rules[1]["conditions_all"][1]["value"] == 5 * 24
    assert "5 days" in rules[1]["actions"][1]["body_en"] and "5 días" in rules[1]["actions"][1]["body_es"]


# ---- the command cron has always run ----


def test_the_old_cron_command_runs_the_automations_and_says_so(app, db, make, alice, runner, defaults):
    ticket = make.ticket(requester=alice, status="solved", now=T0)
    result = runner.invoke(args=["tickets", "auto-close", "--now", days(27).isoformat(), "--no-mail"])
    assert result.exit_code == 0, result.output
    assert "automations now" in result.output and "Automations acted on 0 ticket(s)" in result.output
    result = runner.invoke(args=["tickets", "auto-close", "--now", days(28.1).isoformat() + "+00:00"])
    assert result.exit_code == 0, result.output
    assert f"{CLOSE}: 1 ticket(s): {ticket.ref}" in result.output
    assert "E-mails: 1 sent" in result.output  # to the outbox folder
    assert reload(db, ticket).status == "closed"


def test_cli_refuses_a_time_that_is_not_iso(runner):
    result = runner.invoke(args=["tickets", "auto-close", "--now", "next tuesday"])
    assert result.exit_code != 0 and "ISO" in result.output


# ---- two runs at once, against the same database ----


def test_two_concurrent_runs_close_remind_and_solve_each_ticket_once(app, db, make, agnes, defaults):
    solved = [make.ticket(status="solved", now=T0) for _ in range(4)]
    reminded, timed_out = [], []
    for group, at in ((reminded, days(25.9)), (timed_out, days(21))):
        for _ in range(3):
            ticket = make.ticket(now=T0)
            tickets.agent_reply(db, ticket, body="More details?", submit_as="pending", actor=agnes, now=at)
            group.append(ticket)
    db.commit()
    reports = at_once(app, lambda session: automations.run(session, now=days(29)))
    assert len(reports) == 2 and reports[0].errors == [] and reports[1].errors == []
    for name, expected in ((CLOSE, solved), (REMIND, reminded), (SOLVE, timed_out)):
        assert sorted(acted(reports[0], name) + acted(reports[1], name)) == sorted(t.ref for t in expected)
    db.expire_all()
    for ticket in solved:
        assert kinds(db, ticket, "auto_closed") == 1 and mails(db, ticket, "status_closed") == 1
    for ticket in reminded:
        assert kinds(db, ticket, REMINDER_EVENT) == 1 and mails(db, ticket, "pending_reminder") == 1
    for ticket in timed_out:
        assert kinds(db, ticket, "auto_solved") == 1
        assert db.scalar(select(func.count()).select_from(RuleFiring).where(
            RuleFiring.ticket_id == ticket.id, RuleFiring.rule_id == defaults[SOLVE].id)) == 1


# ---- the e-mails announce what the automations will do ----


def _mail_text(app, db, ticket, kind: str) -> str:
    from portal.views import notify_dispatch

    row = Notification(ticket=ticket, recipient_email=ticket.requester.email, recipient=ticket.requester, kind=kind,
                       language="en", context={"days": 3}, status="queued", attempts=0, created_at=T0)
    db.add(row)
    db.commit()
    with app.app_context():
        message = notify_dispatch.build(db, row, notify_dispatch.settings())
    return " ".join(message.get_body(("plain",)).get_content().split())


def test_the_mails_give_the_delays_of_the_automations_as_edited(app, db, make, alice, admin_user, defaults):
    ticket = make.ticket(requester=alice, status="solved", now=T0)
    assert "it will close by itself in 28 days" in _mail_text(app, db, ticket, "status_solved")
    assert "as solved 7 days after our last message" in _mail_text(app, db, ticket, "pending_reminder")
    close = defaults[CLOSE]
    manage.update_rule(db, close, manage.snapshot(close) | {"conditions_all": [
        {"field": "status", "op": "is", "value": "solved"},
        {"field": "hours_since_solved", "op": "greater_than", "value": 14 * 24}]},
        expected_version=close.version, actor=admin_user, now=T0)
    manage.set_enabled(db, defaults[SOLVE], False, actor=admin_user, now=T0)
    db.commit()
    assert "it will close by itself in 14 days" in _mail_text(app, db, ticket, "status_solved")
    reminder = _mail_text(app, db, ticket, "pending_reminder")
    assert "We are still waiting for your reply." in reminder and "as solved" not in reminder
