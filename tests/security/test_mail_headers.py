"""Ambiguous and encoded mail headers, in both directions, through the real transports.

Incoming: a From header that can be read two ways never writes into someone's conversation, and an agent's
address in a From line alone never makes a public reply mailed to the customer. Every message is delivered
through a real SMTP session with the `mail serve` listener and through `mail ingest`.
Outgoing: a name or a subject never puts a header of its own into a mail we send, whatever encoding it uses.
Delivery reports: only a real one marks a mail as failed; a vacation reply never does.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.models import InboundMail, Message, Notification, Ticket, TicketEvent, User
from tests.conftest import login
from tests.web import test_mail_channel as channel
from tests.web.test_mail_channel import mail, outbox, public_bodies, sample, tickets_of

deliver = channel.deliver  # the same fixture: a real SMTP session with `mail serve`'s listener, and `mail ingest`

MALLORY = "mallory@evil.example"
INJECTED = re.compile(rb"^(x-injected|bcc|x-evil)\s*:", re.I | re.M)


def injected_headers(message) -> bool:
    """A header someone typed into a value: in the parsed headers or in the header block as written."""
    head = message.as_bytes().partition(b"\n\n")[0]
    return bool(INJECTED.search(head)) or any(k.lower() in ("x-injected", "bcc", "x-evil") for k in message)


def with_from(raw: bytes, *values: str) -> bytes:
    """The message with its From header replaced, byte for byte, by these lines (the library would tidy them)."""
    head, _, body = raw.partition(b"\n\n")
    lines = [line for line in head.split(b"\n") if not line.lower().startswith(b"from:")]
    return b"\n".join([*(f"From: {value}".encode() for value in values), *lines]) + b"\n\n" + body


def last_message(db, ticket: Ticket) -> Message:
    db.expire_all()
    return db.scalar(select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id.desc()))


def public_reply_mails(db, ticket: Ticket) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Notification).where(
        Notification.ticket_id == ticket.id, Notification.kind == "public_reply")) or 0


# ---- Incoming: who wrote this? -------------------------------------------------------------------------


AMBIGUOUS_CUSTOMER = [
    ("alice@example.com <mallory@evil.example>",),
    ("alice@example.com)<mallory@evil.example>",),
    ('"alice@example.com" <mallory@evil.example>',),
    ("=?utf-8?q?alice=40example=2Ecom?= <mallory@evil.example>",),
    ("=?utf-8?q?alice=40example=2Ecom?=",),
    ("alice@example.com, mallory@evil.example",),
    ("mallory@evil.example, alice@example.com",),
    ("alice@example.com", "mallory@evil.example"),
    ("Alice <alice@example.com>", "Alice <alice@example.com>"),
    ("Alice\t<alice@example.com> <mallory@evil.example>",),
]


@pytest.mark.parametrize("from_lines", AMBIGUOUS_CUSTOMER)
def test_an_ambiguous_from_never_writes_into_the_requesters_conversation(deliver, db, make, alice, from_lines):
    ticket = make.ticket(requester=alice, subject="My salary slip", status="pending", assignee=make.user(role="agent"))
    before = public_bodies(db, ticket)

    deliver(with_from(mail(subject=f"Re: [{ticket.ref}] My salary slip", body="Send me the slip again.",
                           in_reply_to=f"<ticket-{ticket.ref}@mesa.example>"), *from_lines),
            envelope_from=MALLORY)

    assert public_bodies(db, ticket) == before
    db.refresh(ticket)
    assert ticket.status == "pending"
    [record] = db.scalars(select(InboundMail))
    assert record.ticket_id != ticket.id
    if record.outcome == "created":  # the one address in angle brackets is an unknown sender of its own
        assert record.sender == MALLORY and "Ambiguous sender" in record.detail
        assert db.scalar(select(User).where(User.email == MALLORY)).name == "mallory"
    else:  # no single address: nothing is acted on, and the text is kept in the log
        assert record.outcome == "refused" and "Send me the slip again." in record.detail


@pytest.mark.parametrize("from_lines", [
    ("agnes@example.com <mallory@evil.example>",),
    ('"Agnes Agent (agnes@example.com)" <mallory@evil.example>',),
    ("=?utf-8?q?agnes=40example=2Ecom?=",),
    ("agnes@example.com, mallory@evil.example",),
    ("agnes@example.com", "mallory@evil.example"),
])
def test_an_agents_address_in_an_ambiguous_from_is_no_reply(deliver, db, make, alice, agnes, from_lines):
    ticket = make.ticket(requester=alice, subject="VPN drops", status="open", assignee=agnes)

    deliver(with_from(mail(subject=f"Re: [{ticket.ref}] VPN drops", body="Pay the invoice to IBAN XX00 0000."),
                      *from_lines), envelope_from=MALLORY)

    assert all("IBAN" not in body for body in public_bodies(db, ticket))
    assert public_reply_mails(db, ticket) == 0


def test_an_agents_plain_from_line_is_held_as_a_private_note_not_mailed(deliver, app, db, client, make, alice, agnes):
    ticket = make.ticket(requester=alice, subject="VPN drops", status="open", assignee=agnes)
    other = make.ticket(requester=alice, subject="Other")
    from portal.services.mail import inbound

    wrong_ticket = inbound.InboundSettings.from_config(app.config).reply_addresses.for_agent(agnes.id, other.ref)
    deliver(mail(sender="Agnes Agent <agnes@example.com>", subject=f"Re: [{ticket.ref}] VPN drops",
                 body="Pay the invoice to IBAN XX00 0000."), envelope_from="agnes@example.com")
    deliver(mail(sender="agnes@example.com", subject=f"Re: [{ticket.ref}] VPN drops", to=wrong_ticket,
                 body="Second try, IBAN XX00 0000."), envelope_from="agnes@example.com")

    held = last_message(db, ticket)
    assert not held.public and held.author_id is None and held.channel == "email"
    assert public_reply_mails(db, ticket) == 0
    assert [m for m in outbox(app) if alice.email in str(m["To"])] == []
    assert list(db.scalars(select(InboundMail.outcome))) == ["held", "held"]
    assert db.scalar(select(TicketEvent).where(TicketEvent.kind == "mail_unverified")).old_value == agnes.email
    login(client, alice)
    assert "IBAN" not in client.get(f"/tickets/{ticket.ref}").text
    client.post("/logout")
    login(client, agnes)
    page = client.get(f"/agent/tickets/{ticket.ref}").text
    assert "IBAN XX00 0000" in page and "not verified as the agent" in page


@pytest.fixture
def app_config(request, app_config):  # noqa: F811 (the security suite's folders, plus this test's settings)
    return {**app_config, **getattr(request, "param", {})}


TRUSTED = {"MAIL_TRUSTED_AUTHSERV_ID": "mx.mesa.example"}


@pytest.mark.parametrize("app_config", [TRUSTED], indirect=True)
@pytest.mark.parametrize(("results", "public"), [
    ("mx.mesa.example; spf=pass smtp.mailfrom=example.com; dmarc=pass header.from=example.com", True),
    ("mx.mesa.example; dmarc=pass header.from=evil.example", False),
    ("mx.mesa.example; dmarc=fail (p=reject) header.from=example.com", False),
    ("mx.attacker.example; dmarc=pass header.from=example.com", False),
])
def test_the_operators_trusted_mta_can_vouch_for_an_agents_domain(deliver, db, make, alice, agnes, results, public):
    ticket = make.ticket(requester=alice, subject="VPN drops", status="open", assignee=agnes)

    deliver(mail(sender="agnes@example.com", subject=f"Re: [{ticket.ref}] VPN drops", body="Update to v5.",
                 headers={"Authentication-Results": results}), envelope_from="agnes@example.com")

    reply = last_message(db, ticket)
    assert (reply.body == "Update to v5." and reply.public) is public
    assert public_reply_mails(db, ticket) == (1 if public else 0)


@pytest.mark.parametrize("app_config", [TRUSTED], indirect=True)
def test_a_customer_mail_whose_domain_failed_dmarc_is_an_unknown_senders(deliver, db, make, alice):
    ticket = make.ticket(requester=alice, subject="VPN drops", status="pending", assignee=make.user(role="agent"))

    deliver(mail(sender="alice@example.com", subject=f"Re: [{ticket.ref}] VPN drops", body="Forged.",
                 headers={"Authentication-Results": "mx.mesa.example; dmarc=fail header.from=example.com"}),
            envelope_from=MALLORY)

    assert "Forged." not in public_bodies(db, ticket)
    assert "DMARC failed" in db.scalar(select(InboundMail.detail))


# ---- Delivery reports ----------------------------------------------------------------------------------


VACATION = """From: Alice Customer <alice@example.com>
To: Mesa Support <support@mesa.example>
Subject: Automatic reply: [{ref}] We received your request
Message-ID: <vacation-1@example.com>
Date: Mon, 23 Nov 2026 10:00:00 +0000
Return-Path: <>
Auto-Submitted: auto-replied
X-Autoreply: yes
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="B"

--B
Content-Type: text/plain; charset="utf-8"

I am on holiday until Monday.

--B
Content-Type: message/rfc822

From: Mesa Support <support@mesa.example>
To: alice@example.com
Subject: [{ref}] We received your request
Message-ID: {message_id}

Your request was received.
--B--
"""


def test_a_vacation_reply_is_not_a_bounce_and_retry_failed_sends_nothing_again(deliver, app, db, make, alice,
                                                                                 runner):
    ticket = make.ticket(requester=alice, subject="VPN drops")
    assert runner.invoke(args=["mail", "flush"]).exit_code == 0
    db.expire_all()
    receipt = db.scalar(select(Notification).where(Notification.ticket_id == ticket.id))
    sent = len(outbox(app))

    raw = VACATION.format(ref=ticket.ref, message_id=receipt.message_id).replace("\n", "\r\n").encode()
    deliver(raw, envelope_from="")

    db.refresh(receipt)
    assert receipt.status == "sent" and not receipt.last_error
    assert db.scalar(select(InboundMail.outcome)) == "auto"
    assert tickets_of(db, "alice@example.com") == [ticket] and len(public_bodies(db, ticket)) == 1
    assert runner.invoke(args=["mail", "flush", "--retry-failed"]).output.startswith("Requeued 0")
    assert len(outbox(app)) == sent  # no answer to the auto-reply, no second receipt


def test_a_delayed_delivery_report_marks_nothing_failed(deliver, db, make, alice, runner):
    ticket = make.ticket(requester=alice)
    assert runner.invoke(args=["mail", "flush"]).exit_code == 0
    db.expire_all()
    receipt = db.scalar(select(Notification).where(Notification.ticket_id == ticket.id))

    report = sample("bounce_dsn.eml", n="2", recipient="alice@example.com", ref=ticket.ref,
                    message_id=receipt.message_id).replace(b"Action: failed", b"Action: delayed")
    deliver(report, envelope_from="")

    db.refresh(receipt)
    assert receipt.status == "sent"
    assert db.scalar(select(InboundMail.outcome)) == "bounce"


# ---- Outgoing: nothing a person typed becomes a header -------------------------------------------------


@pytest.mark.parametrize("name", [
    "=?utf-8?q?Dear=0D=0AX-Injected:_yes?=",
    "Dear\r\nX-Injected: yes",
    "Dear\nX-Injected: yes",
    "Dear\rX-Injected: yes",
    "=?utf-8?b?RGVhcg0KWC1JbmplY3RlZDogeWVz?=",
    "Dear\u2028X-Injected: yes",
])
def test_a_sign_up_name_with_a_line_break_is_refused_before_anything_is_saved(app, client, db, name):
    response = client.post("/register", data={"name": name, "email": "newcomer@example.com",
                                               "password": "a long enough password"})

    assert response.status_code == 422
    assert "on one line" in response.text
    assert db.scalar(select(User).where(User.email == "newcomer@example.com")) is None
    assert outbox(app) == []


@pytest.mark.parametrize("name", ["=?utf-8?q?Dear=0D=0AX-Injected:_yes?=", "Dear\r\nX-Injected: yes",
                                  "=?utf-8?q?a=0AX-Evil:_1?= \x1b\x7f"])
def test_a_name_already_stored_never_puts_a_header_into_a_mail(app, db, make, name):
    from portal.views import mailer

    user = make.user(email="legacy@example.com")
    db.execute(User.__table__.update().where(User.id == user.id).values(name=name))  # from before the rule
    db.commit()
    db.refresh(user)
    with app.test_request_context():
        assert mailer.send_email(user, "password_reset", reset_url="http://portal.test/r", minutes=60,
                                 invited=False)
    [sent] = outbox(app)
    assert not injected_headers(sent)
    assert sent["To"].addresses[0].addr_spec == "legacy@example.com"


def test_a_ticket_subject_with_an_encoded_line_break_adds_no_header(app, client, db, alice, runner):
    login(client, alice)
    subject = "Printer =?utf-8?q?broken=0D=0ABcc:_mallory@evil.example=0D=0AX-Injected:_yes?="
    response = client.post("/tickets", data={"subject": subject, "description": "It broke.", "priority": "normal",
                                             "language": "en", "action": "file", "suggestions_shown": "1"})
    assert response.status_code == 303
    assert runner.invoke(args=["mail", "flush"]).exit_code == 0

    [receipt] = outbox(app)
    assert not injected_headers(receipt)
    assert [a.addr_spec for a in receipt["To"].addresses] == ["alice@example.com"] and receipt["Bcc"] is None
