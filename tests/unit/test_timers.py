"""The timers, with an injected clock: auto-close, the pending reminder and auto-solve; run twice, and twice
at once."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.models import Message, Notification, Ticket, TicketEvent
from portal.services import tickets, timers

T0 = datetime(2026, 11, 2, 9, 0, 0)
SETTINGS = timers.TimerSettings(auto_close_days=28, reminder_days=3, auto_solve_days=7)


def days(n: float) -> datetime:
    return T0 + timedelta(days=n)


def run(db, at: datetime) -> timers.TimerReport:
    return timers.run(db, SETTINGS, now=at)


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
def pending_ticket(db, make, alice, agnes):
    ticket = make.ticket(requester=alice, now=T0)
    tickets.agent_reply(db, ticket, body="Which light is red?", submit_as="pending", actor=agnes, now=T0)
    db.commit()
    return ticket


# ---- auto-close ----


def test_solved_ticket_stays_solved_for_27_days_and_closes_at_28(db, make, alice):
    ticket = make.ticket(requester=alice, status="solved", now=T0)
    assert run(db, days(27)).closed == []
    assert reload(db, ticket).status == "solved"
    assert run(db, days(28)).closed == [ticket.ref]
    ticket = reload(db, ticket)
    assert ticket.status == "closed" and ticket.closed_at == days(28)
    assert kinds(db, ticket, "auto_closed") == 1
    assert mails(db, ticket, "status_closed") == 1


def test_running_twice_closes_and_mails_once(db, make, alice):
    ticket = make.ticket(requester=alice, status="solved", now=T0)
    run(db, days(30))
    second = run(db, days(30))
    assert second.closed == [] and second.notifications == []
    assert kinds(db, ticket, "auto_closed") == 1 and mails(db, ticket, "status_closed") == 1


def test_cli_takes_the_time_from_now(app, db, make, alice, runner):
    ticket = make.ticket(requester=alice, status="solved", now=T0)
    result = runner.invoke(args=["tickets", "auto-close", "--now", days(27).isoformat(), "--no-mail"])
    assert result.exit_code == 0, result.output
    assert "Closed 0" in result.output
    result = runner.invoke(args=["tickets", "auto-close", "--now", days(28).isoformat() + "+00:00"])
    assert result.exit_code == 0, result.output
    assert "Closed 1" in result.output and "E-mails: 1 sent" in result.output  # to the outbox folder
    assert reload(db, ticket).status == "closed"


def test_cli_refuses_a_time_that_is_not_iso(runner):
    result = runner.invoke(args=["tickets", "auto-close", "--now", "next tuesday"])
    assert result.exit_code != 0 and "ISO" in result.output


# ---- pending: reminder, then auto-solve ----


def test_pending_ticket_is_reminded_once_at_day_3(db, pending_ticket):
    assert run(db, days(2.9)).reminded == []
    assert run(db, days(3)).reminded == [pending_ticket.ref]
    assert run(db, days(4)).reminded == []
    assert run(db, days(6)).reminded == []
    assert kinds(db, pending_ticket, timers.REMINDER_EVENT) == 1
    assert mails(db, pending_ticket, "pending_reminder") == 1
    assert reload(db, pending_ticket).status == "pending"


def test_a_new_pending_period_gets_a_new_reminder(db, pending_ticket, alice, agnes):
    run(db, days(3))
    ticket = reload(db, pending_ticket)
    tickets.customer_reply(db, ticket, body="The red one, at the left.", actor=alice, now=days(4))
    tickets.agent_reply(db, ticket, body="And now?", submit_as="pending", actor=agnes, now=days(5))
    db.commit()
    assert run(db, days(7)).reminded == []  # two days into the new period
    assert run(db, days(8)).reminded == [ticket.ref]
    assert kinds(db, ticket, timers.REMINDER_EVENT) == 2


def test_pending_ticket_is_solved_at_day_7_with_a_public_message(db, pending_ticket):
    assert run(db, days(6.9)).solved == []
    report = run(db, days(7))
    assert report.solved == [pending_ticket.ref] and report.reminded == []
    ticket = reload(db, pending_ticket)
    assert ticket.status == "solved" and ticket.solved_at == days(7)
    last = db.scalars(select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id.desc())).first()
    assert last.public and last.author_id is None
    assert "7 days" in last.body and "solved" in last.body
    solved_mail = db.scalar(select(Notification).where(Notification.kind == "status_solved"))
    assert solved_mail.context["auto"] is True
    assert run(db, days(8)).solved == []
    assert kinds(db, ticket, "auto_solved") == 1


def test_auto_solve_message_is_written_in_the_tickets_language(app, db, make, alice, agnes, runner):
    ticket = make.ticket(requester=alice, language="es", now=T0)
    tickets.agent_reply(db, ticket, body="¿Qué luz está en rojo?", submit_as="pending", actor=agnes, now=T0)
    db.commit()
    result = runner.invoke(args=["tickets", "auto-close", "--now", days(7).isoformat(), "--no-mail"])
    assert "solved 1" in result.output
    from portal.cli.tickets import auto_solve_message

    with app.app_context():
        expected = auto_solve_message("es", 7)
    body = db.scalars(select(Message.body).where(Message.ticket_id == ticket.id).order_by(Message.id.desc())).first()
    assert body == expected


def test_reminder_is_skipped_when_the_ticket_is_already_due_to_be_solved(db, pending_ticket):
    report = run(db, days(10))  # cron did not run for ten days
    assert report.solved == [pending_ticket.ref] and report.reminded == []
    assert mails(db, pending_ticket, "pending_reminder") == 0


def test_a_ticket_changed_by_an_agent_meanwhile_is_left_alone(db, make, alice, agnes):
    ticket = make.ticket(requester=alice, status="solved", now=T0)
    candidates = timers._solved_before(db, days(28))
    tickets.set_status(db, ticket, "open", actor=agnes, now=days(27))  # reopened just before the run
    db.commit()
    report = timers.TimerReport()
    ticket_id, version = candidates[0]
    timers._one(db, report, report.closed, ticket_id, "solved", version, lambda t: None)
    assert report.closed == [] and reload(db, ticket).status == "open"


# ---- two runs at once, against the same SQLite file ----


def test_two_concurrent_runs_close_and_remind_each_ticket_once(app, db, make, agnes):
    solved = [make.ticket(status="solved", now=T0) for _ in range(4)]
    pending = []
    for _ in range(4):
        ticket = make.ticket(now=T0)
        tickets.agent_reply(db, ticket, body="More details?", submit_as="pending", actor=agnes, now=days(26))
        pending.append(ticket)
    db.commit()
    start = threading.Barrier(2)
    reports: list[timers.TimerReport] = []

    def worker():
        session = app.extensions["sessionmaker"]()
        try:
            start.wait()
            reports.append(run(session, days(29)))
        finally:
            session.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(reports) == 2 and reports[0].errors == [] and reports[1].errors == []
    assert sorted(reports[0].closed + reports[1].closed) == sorted(t.ref for t in solved)
    assert sorted(reports[0].reminded + reports[1].reminded) == sorted(t.ref for t in pending)
    for ticket in solved:
        assert kinds(db, ticket, "auto_closed") == 1 and mails(db, ticket, "status_closed") == 1
    for ticket in pending:
        assert kinds(db, ticket, timers.REMINDER_EVENT) == 1 and mails(db, ticket, "pending_reminder") == 1
