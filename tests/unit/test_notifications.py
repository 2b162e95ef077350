"""Ticket e-mails through the outbox, delivered to a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from portal.clock import utcnow
from portal.models import Notification
from portal.services import notifications, ticket_ccs, tickets
from portal.views import notify_dispatch
from tests.conftest import _free_port, login

NOW = datetime(2026, 11, 2, 9, 0, 0)


@pytest.fixture
def app_config(smtp_config):
    return smtp_config


@pytest.fixture
def carmen(make):
    return make.user(email="carmen@example.com", name="Carmen Núñez", locale="es")


def file(db, requester, *, language: str = "en"):
    ticket = tickets.create_ticket(db, requester=requester, actor=requester, subject="No internet since Monday",
                                   description="The router light is red.", language=language, now=NOW).ticket
    db.commit()
    return ticket


def flush(app):
    with app.app_context():
        return notify_dispatch.flush()


def solved_by(db, ticket, agent, *, now=NOW):
    tickets.take(db, ticket, actor=agent, now=now)
    tickets.set_status(db, ticket, "solved", actor=agent, now=now)
    db.commit()


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(("html",)).get_content()


# ---- received, in the customer's language ----


def test_received_mail_reaches_an_english_customer_in_english(app, db, alice, smtp_server):
    ticket = file(db, alice)
    assert flush(app).sent
    [message] = smtp_server.messages
    assert message.envelope_to == ["alice@example.com"]
    assert f"[{ticket.ref}]" in message["Subject"]
    assert message["Content-Language"] == "en"
    assert '<html lang="en">' in html_of(message)
    assert ticket.ref in text_of(message) and "No internet since Monday" in text_of(message)
    assert f"http://portal.test/tickets/{ticket.ref}" in text_of(message)


def test_received_mail_reaches_a_spanish_customer_in_spanish(app, db, carmen, smtp_server):
    ticket = file(db, carmen, language="es")
    flush(app)
    [message] = smtp_server.messages
    assert f"[{ticket.ref}]" in message["Subject"]
    assert message["Content-Language"] == "es"
    assert '<html lang="es">' in html_of(message)
    assert message["To"] == "Carmen Núñez <carmen@example.com>"


def test_cc_addresses_get_the_ticket_language_and_a_copy(app, db, alice, agnes, smtp_server):
    ticket = file(db, alice, language="es")
    ticket_ccs.add_cc(db, ticket, "boss@example.com", actor=alice, now=NOW)
    tickets.agent_reply(db, ticket, body="Please restart the router.", actor=agnes, now=NOW)
    db.commit()
    flush(app)
    replies = [m for m in smtp_server.messages if "Please restart the router." in text_of(m)]
    assert sorted(m.envelope_to[0] for m in replies) == ["alice@example.com", "boss@example.com"]
    copy = next(m for m in replies if m.envelope_to == ["boss@example.com"])
    assert copy["Content-Language"] == "es"  # the ticket's language; Alice has no preference (en default)


# ---- threading ----


def test_ticket_mails_form_one_thread(app, db, alice, agnes, smtp_server):
    ticket = file(db, alice)
    tickets.agent_reply(db, ticket, body="Which light is red?", submit_as="pending", actor=agnes, now=NOW)
    db.commit()
    flush(app)
    received, *later_mails = smtp_server.messages
    root = f"<ticket-{ticket.ref}@mesa.example>"
    assert received["Message-ID"] == root and received["In-Reply-To"] is None
    tickets.agent_reply(db, ticket, body="Thanks, checking.", actor=agnes, now=NOW)
    db.commit()
    flush(app)
    received, *later_mails = smtp_server.messages
    assert len(later_mails) == 2  # "we need your reply" (with the question), then the plain reply
    for message in later_mails:
        assert message["In-Reply-To"] == root and message["References"] == root
        assert message["Message-ID"] != root and message["Message-ID"].endswith("@mesa.example>")
        assert f"[{ticket.ref}]" in message["Subject"]
        assert message["Auto-Submitted"] == "auto-generated"
    assert len({m["Message-ID"] for m in smtp_server.messages}) == 3


def test_a_reply_submitted_as_solved_is_one_mail_with_the_reply(app, db, alice, agnes, smtp_server):
    ticket = file(db, alice)
    tickets.take(db, ticket, actor=agnes, now=NOW)
    tickets.agent_reply(db, ticket, body="Replace the cable, then it works.", submit_as="solved", actor=agnes,
                        now=NOW)
    db.commit()
    assert [n.kind for n in notifications.notification_log(db, ticket)] == ["ticket_created", "status_solved"]
    flush(app)
    solved = smtp_server.messages[-1]
    assert solved["Subject"].startswith(f"[{ticket.ref}] Solved")
    assert "Replace the cable, then it works." in text_of(solved)
    assert "Replace the cable, then it works." in html_of(solved)


# ---- what is sent, and what is not ----


def test_agent_reply_is_sent_with_its_text_rendered_safely(app, db, alice, agnes, smtp_server):
    ticket = file(db, alice)
    flush(app)
    tickets.agent_reply(db, ticket, body="Try **this**:\n<script>alert(1)</script>", actor=agnes, now=NOW)
    db.commit()
    flush(app)
    message = smtp_server.messages[-1]
    assert "<script>alert(1)</script>" in text_of(message)  # plain text is plain
    assert "<script" not in html_of(message)
    assert "<strong>this</strong>" in html_of(message)
    assert "Agnes Agent" in text_of(message)


def test_private_note_sends_nothing(app, db, alice, agnes, smtp_server):
    ticket = file(db, alice)
    flush(app)
    before = len(smtp_server.messages)
    ticket_ccs.add_cc(db, ticket, "boss@example.com", actor=alice, now=NOW)
    tickets.add_note(db, ticket, body="Refund approved by finance", actor=agnes, now=NOW)
    db.commit()
    assert [n.kind for n in notifications.notification_log(db, ticket)] == ["ticket_created"]
    assert flush(app).sent == []
    assert len(smtp_server.messages) == before
    assert not any("Refund approved" in text_of(m) for m in smtp_server.messages)


def test_statuses_the_customer_does_not_hear_about(db, alice, agnes):
    ticket = file(db, alice)
    tickets.take(db, ticket, actor=agnes, now=NOW)  # new -> open
    tickets.set_status(db, ticket, "on_hold", actor=agnes, now=NOW)
    db.commit()
    assert [n.kind for n in notifications.notification_log(db, ticket)] == ["ticket_created"]


def test_solved_mail_has_confirm_reopen_and_rating_links_for_the_requester_only(app, db, alice, agnes, smtp_server):
    ticket = file(db, alice)
    ticket_ccs.add_cc(db, ticket, "boss@example.com", actor=alice, now=NOW)
    solved_by(db, ticket, agnes)
    flush(app)
    solved = [m for m in smtp_server.messages if m["Subject"].startswith(f"[{ticket.ref}] Solved")]
    to_alice = next(m for m in solved if m.envelope_to == ["alice@example.com"])
    to_boss = next(m for m in solved if m.envelope_to == ["boss@example.com"])
    assert len(re.findall(r"http://portal\.test/t/\S+", text_of(to_alice))) == 2
    assert len(re.findall(r"http://portal\.test/s/\S+", text_of(to_alice))) == 2
    assert "/t/" not in text_of(to_boss) and "/s/" not in text_of(to_boss)  # the links act as the requester


def test_the_log_says_who_was_mailed_when_and_why(app, db, alice, agnes, smtp_server):
    ticket = file(db, alice)
    ticket_ccs.add_cc(db, ticket, "boss@example.com", actor=alice, now=NOW)
    solved_by(db, ticket, agnes, now=NOW + timedelta(hours=1))
    flush(app)
    db.expire_all()
    log = notifications.notification_log(db, ticket)
    assert [(n.kind, n.recipient_email, n.status) for n in log] == [
        ("ticket_created", "alice@example.com", "sent"),
        ("status_solved", "alice@example.com", "sent"),
        ("status_solved", "boss@example.com", "sent"),
    ]
    assert log[0].recipient_id == alice.id and log[2].recipient_id is None
    assert log[1].created_at == NOW + timedelta(hours=1) and log[1].sent_at is not None
    assert log[1].message_id.startswith(f"<ticket-{ticket.ref}.n")


# ---- the outbox: after the request, exactly once, and nothing lost when SMTP is down ----


def test_a_web_action_sends_its_mail_after_the_request(app, db, client, alice, agnes, smtp_server):
    ticket = file(db, alice)
    solved_by(db, ticket, agnes)
    flush(app)
    before = len(smtp_server.messages)
    login(client, alice)
    assert client.post(f"/tickets/{ticket.ref}/confirm").status_code == 303
    [closed] = smtp_server.messages[before:]
    assert closed["Subject"].startswith(f"[{ticket.ref}] Closed")


def test_smtp_down_the_action_succeeds_and_mail_flush_sends_it_once(app, db, client, runner, alice, agnes,
                                                                   smtp_server):
    ticket = file(db, alice)
    solved_by(db, ticket, agnes)
    flush(app)
    before = len(smtp_server.messages)
    app.config["SMTP_PORT"] = _free_port()  # nobody listens there
    login(client, alice)
    assert client.post(f"/tickets/{ticket.ref}/confirm").status_code == 303
    db.expire_all()
    assert db.get(type(ticket), ticket.id).status == "closed"
    [row] = db.scalars(select(Notification).where(Notification.kind == "status_closed"))
    assert row.status == "queued" and row.attempts == 1 and "Could not send" in row.last_error

    result = runner.invoke(args=["mail", "flush"])  # still down: nothing lost, the error says so
    assert result.exit_code != 0 and "not answering" in result.output
    app.config["SMTP_PORT"] = smtp_server.port
    result = runner.invoke(args=["mail", "flush"])
    assert result.exit_code == 0, result.output
    assert "Sent 1" in result.output
    assert runner.invoke(args=["mail", "flush"]).output.startswith("Sent 0")
    assert [m["Subject"] for m in smtp_server.messages[before:]] == [f"[{ticket.ref}] Closed: {ticket.subject}"]
    db.expire_all()
    row = db.get(Notification, row.id)
    assert row.status == "sent" and row.sent_at is not None


def test_a_row_that_keeps_failing_ends_failed_with_its_error(app, db, alice):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=_free_port())
    file(db, alice)
    for _ in range(notifications.MAX_ATTEMPTS + 2):
        flush(app)
    db.expire_all()
    [row] = db.scalars(select(Notification))
    assert row.status == "failed" and row.attempts == notifications.MAX_ATTEMPTS and row.last_error


def test_a_rolled_back_action_sends_nothing(app, db, alice, smtp_server):
    tickets.create_ticket(db, requester=alice, actor=alice, subject="Never filed", description="x", now=NOW)
    db.rollback()
    assert flush(app).sent == [] and smtp_server.messages == []


def test_two_dispatchers_never_send_the_same_row(app, db, make, smtp_server):
    for _ in range(6):
        file(db, make.user())
    with app.app_context():
        ids = notifications.due_ids(db, now=NOW + timedelta(days=1))
    start = threading.Barrier(2)
    reports = []

    def worker():
        with app.app_context():
            start.wait()
            reports.append(notify_dispatch.dispatch(ids))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(reports[0].sent + reports[1].sent) == ids
    assert len(smtp_server.messages) == 6


def test_a_row_abandoned_mid_send_is_sent_again_later(app, db, alice, smtp_server):
    file(db, alice)
    [row] = db.scalars(select(Notification))
    claimed_at = utcnow()
    assert notifications.claim(db, row.id, message_id="<x@mesa.example>", now=claimed_at)
    db.commit()  # a process claimed it, then died
    assert flush(app).sent == []  # not yet: it may still be sending
    assert notifications.due_ids(db, now=claimed_at + notifications.STALE_SENDING + timedelta(minutes=1)) == [row.id]


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("kind", notifications.KINDS)
def test_every_ticket_mail_renders_in_each_language(app, db, alice, agnes, kind, language):
    ticket = file(db, alice)
    reply = tickets.agent_reply(db, ticket, body="Restart the router.", actor=agnes, now=NOW)
    db.commit()
    context = {"message_id": reply.id} if kind == "public_reply" else {"days": 3}
    row = Notification(ticket=ticket, recipient_email=alice.email, recipient=alice, kind=kind, language=language,
                       context=context, status="queued", attempts=0, created_at=NOW)
    db.add(row)
    db.commit()
    with app.app_context():
        message = notify_dispatch.build(db, row, notify_dispatch.settings())
    assert message["Subject"].startswith(f"[{ticket.ref}] ")
    assert message["Content-Language"] == language
    assert f'<html lang="{language}">' in html_of(message)
    assert ticket.ref in text_of(message) and "Alice Customer" in text_of(message)


def test_the_agents_log_fragment_lists_each_mail(app, db, alice):
    ticket = file(db, alice)
    ticket_ccs.add_cc(db, ticket, "boss@example.com", actor=alice, now=NOW)
    notifications.status_changed(db, ticket, "open", "pending", actor=None, now=NOW)
    db.commit()
    with app.test_request_context():
        from flask import render_template

        html = render_template("agent/_notification_log.html", notification_labels=notifications.KIND_LABELS,
                               notification_log=notifications.notification_log(db, ticket))
    assert html.count("<tr>") == 1 + 3
    assert "Ticket received" in html and "Waiting for the customer" in html and "in copy" in html


def test_a_request_that_rolls_back_sends_nothing(app, db, alice, smtp_server):
    from flask import g

    from portal.extensions import db_session

    with app.test_request_context("/", method="POST"):
        me = db_session().get(type(alice), alice.id)
        tickets.create_ticket(db_session(), requester=me, actor=me, subject="Never filed", description="x", now=NOW)
        db_session().rollback()
        app.process_response(app.response_class("ok"))
        assert g.db_session.info.get("queued_notifications") is None
    assert smtp_server.messages == [] and flush(app).sent == []
