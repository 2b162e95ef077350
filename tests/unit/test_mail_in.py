"""Reading incoming mail (no database) and the ingestion rules at the service level (a real database)."""

from __future__ import annotations

import re
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.clock import utcnow
from portal.errors import InvalidTransition
from portal.models import InboundMail, Ticket
from portal.services.mail import inbound
from portal.services.mail.headers import parse_mailbox
from portal.services.mail.parsing import html_to_text, parse, reply_text
from portal.services.mail.reply_addresses import ReplyAddresses

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "mail"


def _raw(**headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = headers.pop("From", "Carol <carol@example.net>")
    message["Subject"] = headers.pop("Subject", "Hello")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(headers.get("body", "Body text"))
    return message.as_bytes()


# ---- Parsing ---------------------------------------------------------------------------------------------


def test_html_to_text_keeps_words_and_drops_code():
    text = html_to_text("<style>x{}</style><p>Hi <b>there</b>,</p><script>alert(1)</script><ul><li>one</li>"
                        "<li>two</li></ul><blockquote>old mail</blockquote><a href='javascript:x()'>link</a>")
    assert text == "Hi there,\n\n- one\n- two\n\n> old mail\nlink"


def test_reply_text_trims_quotes_and_signature_but_never_to_nothing():
    assert reply_text("New info.\n\nOn Mon, Ann wrote:\n> old") == "New info."
    assert reply_text("Fixed, thanks.\n-- \nAnn Example\nACME") == "Fixed, thanks."
    assert reply_text("Thanks!") == "Thanks!"  # the thanks-only rule needs it
    assert reply_text("> only a quote") == "> only a quote"


def test_references_are_read_from_subject_and_threading_headers():
    parsed = parse(_raw(Subject="RE: Fwd: [MSA-2345-6789] Printer", In_Reply_To="<a@x>", References="<b@x> <c@x>"))
    assert parsed.refs_in_subject == ["MSA-2345-6789"]
    assert parsed.referenced_ids == ["<a@x>", "<c@x>", "<b@x>"]
    assert parsed.clean_subject == "[MSA-2345-6789] Printer"


def test_a_message_without_message_id_gets_a_stable_one():
    raw = _raw()
    assert parse(raw).message_id == parse(raw).message_id != parse(_raw(Subject="Other")).message_id


@pytest.mark.parametrize(("header", "value", "automatic"), [
    ("Auto-Submitted", "auto-replied", True), ("Auto-Submitted", "auto-generated; type=vacation", True),
    ("Auto-Submitted", "no", False), ("Precedence", "bulk", True), ("Precedence", "list", True),
    ("Precedence", "junk", True), ("Precedence", "first-class", False),
])
def test_automatic_messages_are_recognised(header, value, automatic):
    assert parse(_raw(**{header.replace("-", "_"): value})).is_automatic is automatic


def test_a_dsn_names_the_bounced_message_recipient_and_reason():
    raw = (SAMPLES / "bounce_dsn.eml").read_text().replace("{message_id}", "<ticket-MSA-2345-6789@mesa.example>")
    raw = raw.replace("{recipient}", "gone@example.com").replace("{ref}", "MSA-2345-6789").replace("{n}", "1")
    parsed = parse(raw.encode())
    assert parsed.is_bounce
    assert parsed.bounced_ids == ["<ticket-MSA-2345-6789@mesa.example>"]
    assert parsed.bounced_recipients == ["gone@example.com"]
    assert parsed.bounce_reason.startswith("5.1.1; smtp; 550 5.1.1")


def test_only_a_delivery_status_notification_is_a_bounce_other_program_mail_is_automatic():
    for parsed in (parse(_raw(From="MAILER-DAEMON@mx.example.net")), parse(_raw(), envelope_sender=""),
                   parse(_raw(Return_Path="<>")), parse(_raw(X_Autoreply="yes"))):
        assert parsed.is_automatic and not parsed.is_bounce
    assert not parse(_raw(), envelope_sender="carol@example.net").is_automatic


# ---- The service -----------------------------------------------------------------------------------------


@pytest.fixture
def settings(app):
    return inbound.InboundSettings.from_config(app.config)


def test_ingest_never_commits_and_logs_each_message_once(db, settings):
    raw = _raw(Message_ID="<once@example.net>")
    first = inbound.ingest(db, raw, settings=settings, now=utcnow())
    again = inbound.ingest(db, raw, settings=settings, now=utcnow())
    assert first.outcome == "created" and again.outcome == "duplicate" and again.ticket is first.ticket
    db.rollback()
    assert db.scalar(select(Ticket)) is None and db.scalar(select(InboundMail)) is None


def test_the_hourly_limit_counts_only_the_last_hour(db, settings, app):
    limited = inbound.InboundSettings(**{**settings.__dict__, "max_new_per_hour": 1})
    start = utcnow()
    assert inbound.ingest(db, _raw(Subject="one"), settings=limited, now=start).outcome == "created"
    assert inbound.ingest(db, _raw(Subject="two"), settings=limited, now=start).outcome == "rate_limited"
    later = start + timedelta(hours=1, seconds=1)
    assert inbound.ingest(db, _raw(Subject="three"), settings=limited, now=later).outcome == "created"


def test_an_agent_mailing_into_a_closed_ticket_is_refused_and_logged(db, settings, make, agnes):
    closed = make.ticket(status="closed")
    raw = _raw(From="agnes@example.com", Subject=f"Re: [{closed.ref}]", Message_ID="<late@example.com>",
               To=settings.reply_addresses.for_agent(agnes.id, closed.ref))
    with pytest.raises(InvalidTransition) as refused:
        inbound.ingest(db, raw, settings=settings, now=utcnow())
    db.rollback()
    logged = inbound.record_refused(db, raw, refused.value, now=utcnow())
    db.commit()
    assert logged.outcome == "refused" and "InvalidTransition" in logged.record.detail
    assert len(closed.messages) == 1


def test_a_message_longer_than_the_portal_takes_is_cut_not_lost(db, settings):
    long_text = "word " * 12_000
    message = EmailMessage()
    message["From"], message["Subject"] = "carol@example.net", "Long log"
    message.set_content(long_text)
    result = inbound.ingest(db, message.as_bytes(), settings=settings, now=utcnow())
    body = result.ticket.messages[0].body
    assert result.outcome == "created" and body.startswith("word word") and body.endswith("…")
    assert len(body) <= 50_000


# ---- Reading the sender strictly (mail.headers) ----------------------------------------------------------


@pytest.mark.parametrize(("value", "address", "name"), [
    ("Carol Newcomer <carol@example.net>", "carol@example.net", "Carol Newcomer"),
    ('"Doe, John" <John@Example.com>', "john@example.com", "Doe, John"),
    ("=?utf-8?q?Jos=C3=A9?= <jose@example.es>", "jose@example.es", "José"),
    ("Dr. Who <who@example.org>", "who@example.org", "Dr. Who"),
    ("carol@example.net (Carol)", "carol@example.net", ""),
    ('"carol@example.net" <carol@example.net>', "carol@example.net", ""),  # Outlook's habit: no name, no doubt
])
def test_an_unambiguous_from_gives_its_one_address_and_name(value, address, name):
    sender = parse_mailbox(value)
    assert (sender.address, sender.name, sender.trusted) == (address, name, True)


@pytest.mark.parametrize(("value", "address"), [
    ("alice@example.com <mallory@evil.example>", "mallory@evil.example"),
    ("alice@example.com)<mallory@evil.example>", "mallory@evil.example"),
    ('"alice@example.com" <mallory@evil.example>', "mallory@evil.example"),
    ("=?utf-8?q?alice=40example=2Ecom?= <mallory@evil.example>", "mallory@evil.example"),
    ("=?utf-8?q?alice=40example=2Ecom?=", ""),
    ("alice@example.com, mallory@evil.example", ""),
    ("<alice@example.com> <mallory@evil.example>", ""),
    ("Alice <alice@example.com> trailing", ""),
    ('x <"alice@example.com"@evil.example>', ""),
    ("alice@[127.0.0.1]", ""),
    ("alice@example.com\x00", ""),
])
def test_an_ambiguous_from_is_never_trusted_and_only_the_angle_address_is_kept(value, address):
    sender = parse_mailbox(value)
    assert not sender.trusted and sender.problem
    assert sender.address == address and "alice" not in sender.name


def test_two_from_headers_name_no_sender():
    raw = _raw(From="alice@example.com").replace(b"From:", b"From: mallory@evil.example\nFrom:", 1)
    parsed = parse(raw)
    assert parsed.sender == "" and parsed.sender_problem == "2 From headers"


def test_a_reply_address_names_one_agent_and_one_ticket():
    addresses = ReplyAddresses("secret", "support@mesa.example")
    address = addresses.for_agent(7, "MSA-2345-6789")
    assert re.fullmatch(r"support\+a7-msa-2345-6789-[a-z2-7]{16}@mesa\.example", address)
    assert addresses.verifies([f"Support <{address.upper()}>"], agent_id=7, ref="MSA-2345-6789")
    assert not addresses.verifies([address], agent_id=8, ref="MSA-2345-6789")
    assert not addresses.verifies([address], agent_id=7, ref="MSA-2345-678A")
    assert not ReplyAddresses("other", "support@mesa.example").verifies([address], agent_id=7, ref="MSA-2345-6789")


@pytest.mark.parametrize(("action", "failed"), [("failed", ["gone@example.com"]), ("delayed", []),
                                                  ("delivered", []), ("relayed", [])])
def test_only_recipients_whose_action_is_failed_bounced(action, failed):
    raw = (SAMPLES / "bounce_dsn.eml").read_text().replace("{message_id}", "<ticket-MSA-2345-6789@mesa.example>")
    raw = raw.replace("{recipient}", "gone@example.com").replace("{ref}", "MSA-2345-6789").replace("{n}", "1")
    parsed = parse(raw.replace("Action: failed", f"Action: {action}").encode(), envelope_sender="")
    assert parsed.is_bounce and parsed.bounced_recipients == failed
    assert not parse(raw.encode(), envelope_sender="someone@example.net").is_bounce  # a DSN has no sender
