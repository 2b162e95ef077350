"""The e-mail channel end to end: every behaviour is checked through a real SMTP session with the listener of
`flask mail serve` AND through `flask mail ingest` reading standard input, against the real database."""

from __future__ import annotations

import os
import signal
import smtplib
import socket
import socketserver
import subprocess
import sys
import threading
import time
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import formatdate, make_msgid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.cli.mail_inbound import start_server
from portal.models import Attachment, InboundMail, Message, Notification, Ticket, TicketEvent, User
from tests.conftest import login

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "tests" / "data" / "mail"
SUPPORT = "support@mesa.example"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def mail(*, sender: str = "Carol Newcomer <carol@example.net>", subject: str = "The printer does not print",
         body: str | None = "It says paper jam but there is no paper in it.", message_id: str | None = None,
         in_reply_to: str | None = None, headers: dict[str, str] | None = None, html: str | None = None,
         attachments: tuple[tuple[str, bytes], ...] = (), to: str = f"Mesa Support <{SUPPORT}>") -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate()
    message["Message-ID"] = message_id or make_msgid(domain="example.net")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    for name, value in (headers or {}).items():
        message[name] = value
    if body is not None:
        message.set_content(body)
    if html is not None:
        if body is None:
            message.set_content(html, subtype="html")
        else:
            message.add_alternative(html, subtype="html")
    for filename, content in attachments:
        message.add_attachment(content, maintype="application", subtype="octet-stream", filename=filename)
    return message.as_bytes()


def sample(name: str, **values: str) -> bytes:
    text = (SAMPLES / name).read_text()
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text.replace("\n", "\r\n").encode()


@pytest.fixture(params=["smtp", "ingest"])
def deliver(request, app, runner):
    """Hands a raw message to the portal the way production does: an SMTP client talking to the listener
    that `flask mail serve` runs, or an MTA piping it into `flask mail ingest`."""
    if request.param == "smtp":
        port = _free_port()
        controller = start_server(app, "127.0.0.1", port)

        def send(raw: bytes, envelope_from: str | None = None) -> None:
            parsed = message_from_bytes(raw, policy=default_policy)
            sender = envelope_from if envelope_from is not None else parsed["From"].addresses[0].addr_spec
            wire = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")  # SMTP lines end in CRLF
            with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
                refused = client.sendmail(sender, [SUPPORT], wire)
            assert refused == {}

        yield send
        controller.stop()
    else:

        def send(raw: bytes, envelope_from: str | None = None) -> None:
            result = runner.invoke(args=["mail", "ingest"], input=raw)
            assert result.exit_code == 0, result.output

        yield send


def tickets_of(db, email: str) -> list[Ticket]:
    db.expire_all()
    user = db.scalar(select(User).where(User.email == email))
    if user is None:
        return []
    return list(db.scalars(select(Ticket).where(Ticket.requester_id == user.id).order_by(Ticket.id)))


def public_bodies(db, ticket: Ticket) -> list[str]:
    db.expire_all()
    return list(db.scalars(select(Message.body).where(Message.ticket_id == ticket.id).order_by(Message.id)))


def outbox(app) -> list[EmailMessage]:
    folder = Path(app.config["OUTBOX_DIR"])
    files = sorted(folder.glob("*.eml")) if folder.exists() else []
    return [message_from_bytes(path.read_bytes(), policy=default_policy) for path in files]


# ---- New tickets -----------------------------------------------------------------------------------------


def test_a_new_mail_opens_a_ticket_for_an_unknown_sender(deliver, app, db):
    deliver(mail())

    [ticket] = tickets_of(db, "carol@example.net")
    assert ticket.channel == "email" and ticket.status == "new"
    assert ticket.subject == "The printer does not print"
    assert public_bodies(db, ticket) == ["It says paper jam but there is no paper in it."]
    carol = ticket.requester
    assert carol.name == "Carol Newcomer" and carol.role == "customer"
    assert carol.verified is False and carol.password_hash is None  # claimed later with a password reset
    [receipt] = outbox(app)
    assert receipt["To"].addresses[0].addr_spec == "carol@example.net"
    assert f"[{ticket.ref}]" in receipt["Subject"]
    assert receipt["Auto-Submitted"] == "auto-replied"
    assert receipt["Reply-To"].addresses[0].addr_spec == SUPPORT
    row = db.scalar(select(Notification).where(Notification.ticket_id == ticket.id))
    assert row.message_id == receipt["Message-ID"]  # recorded, so it is recognised when it comes back


def test_a_known_customer_mailing_in_files_under_their_own_account(deliver, db, alice):
    deliver(mail(sender="ALICE@Example.com", subject="VPN drops"))

    [ticket] = tickets_of(db, "alice@example.com")
    assert ticket.requester_id == alice.id and ticket.subject == "VPN drops"
    assert db.scalar(select(func.count()).select_from(User)) == 1


def test_a_mail_of_pathological_markdown_files_a_ticket_that_opens(deliver, app, db, alice, agnes):
    """Python-Markdown hit RecursionError on a run of stars: the ticket was filed, then never opened again."""
    body = "*" * 2000 + "a" + "*" * 2000 + "\n\n" + "[a](" * 5000
    deliver(mail(sender="alice@example.com", subject="Stars in my mail", body=body))

    [ticket] = tickets_of(db, "alice@example.com")
    client = app.test_client()
    login(client, alice)
    assert client.get(f"/tickets/{ticket.ref}").status_code == 200
    client.post("/logout")
    login(client, agnes)
    assert client.get(f"/agent/tickets/{ticket.ref}").status_code == 200


# ---- Threading -------------------------------------------------------------------------------------------


QUOTED_REPLY = """Yes, it still happens after the restart.

Regards,
Alice

On Mon, 23 Nov 2026 at 10:00, Mesa Support <support@mesa.example> wrote:
> Could you restart the router and tell us if it still happens?
> Agnes
"""


def test_a_reply_threads_by_the_reference_in_the_subject(deliver, db, make, alice, agnes):
    ticket = make.ticket(requester=alice, subject="VPN drops", status="pending", assignee=agnes)

    deliver(mail(sender="alice@example.com", subject=f"Re: [{ticket.ref}] Waiting for your reply: VPN drops",
                 body=QUOTED_REPLY))

    assert tickets_of(db, "alice@example.com") == [ticket]
    bodies = public_bodies(db, ticket)
    assert bodies[-1] == "Yes, it still happens after the restart."  # quote and signature trimmed
    db.refresh(ticket)
    assert ticket.status == "open"  # a customer reply on pending goes back to the agents, as in the portal
    reply = db.scalar(select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id.desc()))
    assert reply.channel == "email" and reply.author_id == alice.id and reply.public


def test_a_reply_threads_by_in_reply_to_without_a_reference_in_the_subject(deliver, db, make, alice, agnes):
    ticket = make.ticket(requester=alice, subject="VPN drops", status="solved", assignee=agnes)

    deliver(mail(sender="alice@example.com", subject="Re: your mail", body="It broke again this morning.",
                 in_reply_to=f"<ticket-{ticket.ref}.n7@mesa.example>"))

    assert tickets_of(db, "alice@example.com") == [ticket]
    assert public_bodies(db, ticket)[-1] == "It broke again this morning."
    db.refresh(ticket)
    assert ticket.status == "open"  # reopened, as a reply in the portal would


def test_thanks_on_a_solved_ticket_leaves_it_solved(deliver, db, make, alice, agnes):
    ticket = make.ticket(requester=alice, subject="VPN drops", status="solved", assignee=agnes)

    deliver(mail(sender="alice@example.com", subject=f"Re: [{ticket.ref}] Solved", body="Thanks!"))

    db.refresh(ticket)
    assert ticket.status == "solved"
    assert public_bodies(db, ticket)[-1] == "Thanks!"


def test_a_stranger_quoting_someone_elses_reference_gets_a_ticket_of_their_own(deliver, db, make, alice, bob):
    ticket = make.ticket(requester=alice, subject="My salary slip", description="Private details of Alice.")
    before = public_bodies(db, ticket)

    deliver(mail(sender="bob@example.com", subject=f"Re: [{ticket.ref}] My salary slip",
                 body="Let me in on this conversation.", in_reply_to=f"<ticket-{ticket.ref}@mesa.example>"))

    assert public_bodies(db, ticket) == before  # nothing written into Alice's conversation
    [own] = tickets_of(db, "bob@example.com")
    assert own.id != ticket.id and own.requester_id == bob.id
    assert ticket.ref not in own.subject
    assert public_bodies(db, own) == ["Let me in on this conversation."]


def test_a_reply_from_someone_in_copy_threads_under_their_name(deliver, db, make, alice):
    from portal.clock import utcnow
    from portal.services import ticket_ccs

    ticket = make.ticket(requester=alice, subject="Office move")
    ticket_ccs.add_cc(db, ticket, "dave@example.org", actor=alice, now=utcnow())
    db.commit()

    deliver(mail(sender="Dave <dave@example.org>", subject=f"Re: [{ticket.ref}] Office move",
                 body="I can confirm the new address."))

    assert public_bodies(db, ticket)[-1] == "I can confirm the new address."
    reply = db.scalar(select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id.desc()))
    assert reply.author.email == "dave@example.org"
    assert tickets_of(db, "dave@example.org") == []


def test_an_agent_reply_by_mail_is_a_public_agent_reply(deliver, app, db, make, alice, agnes):
    from portal.services import agent_notifications

    ticket = make.ticket(requester=alice, subject="VPN drops", status="open", assignee=agnes)
    agent_notifications.set_email_kinds(db, agnes, ["customer_reply"])
    db.commit()
    deliver(mail(sender="alice@example.com", subject=f"Re: [{ticket.ref}] VPN drops", body="Still dropping."))
    [notice] = [m for m in outbox(app) if m["To"].addresses[0].addr_spec == agnes.email]
    reply_to = notice["Reply-To"].addresses[0].addr_spec
    assert reply_to.startswith("support+") and reply_to.endswith("@mesa.example")  # the agent's own, per ticket

    # Agnes answers the notification from her mail client: the reply goes to that address.
    deliver(mail(sender="agnes@example.com", subject=f"Re: [{ticket.ref}] VPN drops", to=reply_to,
                 body="Please update the client to version 5.\n\n-- \nAgnes, Mesa support"))

    reply = db.scalar(select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id.desc()))
    assert reply.author_id == agnes.id and reply.public and reply.body == "Please update the client to version 5."
    db.refresh(ticket)
    assert ticket.first_response_at is not None
    kinds = db.scalars(select(Notification.kind).where(Notification.ticket_id == ticket.id))
    assert "public_reply" in list(kinds)  # the customer gets the answer by e-mail


def test_a_reply_to_a_closed_ticket_files_a_linked_follow_up(deliver, db, make, alice):
    closed = make.ticket(requester=alice, subject="VPN drops", status="closed")

    deliver(mail(sender="alice@example.com", subject=f"Re: [{closed.ref}] Closed: VPN drops",
                 body="It is back, sadly."))

    old, follow_up = tickets_of(db, "alice@example.com")
    assert old.id == closed.id and old.status == "closed"
    assert public_bodies(db, old) == ["It does not work."]
    assert follow_up.follow_up_of_id == closed.id and follow_up.channel == "email"
    assert follow_up.subject == "Closed: VPN drops"
    assert public_bodies(db, follow_up) == ["It is back, sadly."]


CONNECTION_FIELDS = (
    {"key": "connection_type", "label_en": "Connection type", "kind": "select", "required": True,
     "options": [{"value": "fibre", "label_en": "Fibre"}, {"value": "mobile", "label_en": "Mobile data"}]},
    {"key": "router_serial", "label_en": "Router serial"},
)


@pytest.mark.parametrize("answered", [True, False], ids=["closed-ticket-answered", "closed-ticket-unanswered"])
def test_a_reply_to_a_closed_ticket_with_a_required_field_files_the_follow_up_and_acknowledges_it(
        deliver, app, db, make, alice, answered):
    """The follow-up inherits the closed ticket's answers; a closed ticket without them (a field made required
    later) still gives a follow-up: a mail is never refused for a field the customer could not fill in."""
    category = make.category(fields=CONNECTION_FIELDS)
    closed = make.ticket(requester=alice, subject="VPN drops", status="closed", category=category,
                         field_values={"connection_type": "fibre", "router_serial": "RT-77"})
    if not answered:
        closed.field_values.clear()
        db.commit()

    deliver(mail(sender="alice@example.com", subject=f"Re: [{closed.ref}] Closed: VPN drops",
                 body="It is back, sadly. Since the storm."))

    _old, follow_up = tickets_of(db, "alice@example.com")
    assert follow_up.follow_up_of_id == closed.id and follow_up.category_id == category.id
    assert public_bodies(db, follow_up) == ["It is back, sadly. Since the storm."]
    values = {v.field.key: v.value for v in follow_up.field_values}
    assert values == ({"connection_type": "fibre", "router_serial": "RT-77"} if answered else {})
    assert db.scalar(select(InboundMail.outcome).where(InboundMail.ticket_id == follow_up.id)) == "follow_up"
    [receipt] = [m for m in outbox(app) if f"[{follow_up.ref}]" in m["Subject"]]
    assert receipt["To"].addresses[0].addr_spec == "alice@example.com"
    if not answered:  # agents see what is still to be asked
        agent = make.user(role="agent", email="agent-fields@example.com")
        client = app.test_client()
        login(client, agent)
        page = client.get(f"/agent/tickets/{follow_up.ref}").get_data(as_text=True)
        assert "Required: not filled in yet" in page


def test_a_reply_to_a_closed_ticket_of_a_category_no_longer_offered_still_files_the_follow_up(
        deliver, db, make, alice):
    category = make.category(name="Old offers", fields=CONNECTION_FIELDS)
    closed = make.ticket(requester=alice, status="closed", category=category,
                         field_values={"connection_type": "mobile"})
    category.active = False
    db.commit()

    deliver(mail(sender="alice@example.com", subject=f"Re: [{closed.ref}] Closed", body="One more question."))

    _old, follow_up = tickets_of(db, "alice@example.com")
    assert follow_up.category_id == category.id and public_bodies(db, follow_up) == ["One more question."]
    assert {v.field.key: v.value for v in follow_up.field_values} == {"connection_type": "mobile"}


# ---- Idempotency and loops -------------------------------------------------------------------------------


def test_the_same_message_id_twice_gives_one_message(deliver, db, make, alice):
    raw = mail(sender="alice@example.com", message_id="<same-1@example.com>")
    deliver(raw)
    deliver(raw)
    [ticket] = tickets_of(db, "alice@example.com")
    assert len(public_bodies(db, ticket)) == 1

    reply = mail(sender="alice@example.com", subject=f"Re: [{ticket.ref}]", body="More detail.",
                 message_id="<same-2@example.com>")
    deliver(reply)
    deliver(reply)
    assert public_bodies(db, ticket) == ["It says paper jam but there is no paper in it.", "More detail."]


@pytest.mark.parametrize("header", ["Auto-Submitted: auto-replied", "Auto-Submitted: auto-generated",
                                    "Precedence: bulk", "Precedence: junk", "Precedence: list"])
def test_automatic_mail_never_opens_a_ticket_nor_replies(deliver, app, db, make, alice, header):
    ticket = make.ticket(requester=alice, subject="VPN drops", status="pending", assignee=make.user(role="agent"))
    sent_before = len(outbox(app))

    deliver(sample("out_of_office.eml", ref=ticket.ref, n="1", header=header))
    deliver(mail(sender="news@example.org", subject="Our newsletter", headers=dict([header.split(": ")])))

    assert tickets_of(db, "alice@example.com") == [ticket] and tickets_of(db, "news@example.org") == []
    assert len(public_bodies(db, ticket)) == 1
    db.refresh(ticket)
    assert ticket.status == "pending"
    assert len(outbox(app)) == sent_before
    assert set(db.scalars(select(InboundMail.outcome))) == {"auto"}


def test_auto_submitted_no_is_a_person_writing(deliver, db):
    deliver(mail(headers={"Auto-Submitted": "no"}))
    assert len(tickets_of(db, "carol@example.net")) == 1


def test_our_own_mail_coming_back_is_ignored(deliver, app, db, make, alice, runner):
    ticket = make.ticket(requester=alice)
    assert runner.invoke(args=["mail", "flush"]).exit_code == 0
    [receipt] = outbox(app)

    # The receipt delivered back into the support mailbox (a forwarding loop), as it was sent.
    deliver(receipt.as_bytes(), envelope_from="alice@example.com")
    # Another mail with one of our notification ids, even from a customer's address.
    deliver(mail(sender="alice@example.com", subject=f"Re: [{ticket.ref}]", body="loop",
                 message_id=f"<ticket-{ticket.ref}.n99@mesa.example>"))

    assert len(public_bodies(db, ticket)) == 1 and tickets_of(db, "alice@example.com") == [ticket]
    assert len(outbox(app)) == 1
    assert list(db.scalars(select(InboundMail.outcome))) == ["own", "own"]


@pytest.fixture
def app_config(request):
    return getattr(request, "param", {})


@pytest.mark.parametrize("app_config", [{"MAIL_MAX_PER_SENDER_PER_HOUR": 3}], indirect=True)
def test_one_sender_opens_at_most_the_limit_of_tickets_per_hour(deliver, db):
    for n in range(5):
        deliver(mail(subject=f"Spam {n}", body=f"Message {n}"))

    tickets = tickets_of(db, "carol@example.net")
    assert [t.subject for t in tickets] == ["Spam 0", "Spam 1", "Spam 2"]
    assert list(db.scalars(select(InboundMail.outcome).order_by(InboundMail.id))) == ["created"] * 3 + [
        "rate_limited"] * 2
    # Replies to their own tickets still arrive.
    deliver(mail(subject=f"Re: [{tickets[0].ref}] Spam 0", body="An answer"))
    assert public_bodies(db, tickets[0])[-1] == "An answer"


# ---- Content ---------------------------------------------------------------------------------------------


def test_an_html_only_mail_is_stored_as_safe_text(deliver, app, db, client, alice, agnes):
    deliver(sample("html_only_script.eml"))

    [ticket] = tickets_of(db, "alice@example.com")
    [body] = public_bodies(db, ticket)
    assert "Hello, the invoice page is blank since Monday." in body
    assert "1. log in" in body and "the guide (https://mesa.example/kb)" in body
    for gone in ("<", "alert", "document.cookie", "color: red", "ignored title", "javascript:", "onerror"):
        assert gone not in body
    login(client, alice)
    page = client.get(f"/tickets/{ticket.ref}").text
    assert "invoice page" in page and "evil.example" not in page and "onerror" not in page
    client.post("/logout")
    login(client, agnes)
    page = client.get(f"/agent/tickets/{ticket.ref}").text
    assert "invoice page" in page and "evil.example" not in page and "alert(" not in page


@pytest.mark.parametrize("app_config", [{"MAX_ATTACHMENT_MB": 1}], indirect=True)
def test_attachments_are_kept_and_an_oversize_one_is_refused_with_the_text_kept(deliver, app, db, client, agnes):
    small = b"%PDF-1.4 a small invoice"
    big = b"x" * (1024 * 1024 + 1)
    deliver(mail(subject="Invoice attached", body="See the invoice and the log.",
                 attachments=(("invoice.pdf", small), ("huge.log", big), ("run.exe", b"MZ"))))

    [ticket] = tickets_of(db, "carol@example.net")
    assert public_bodies(db, ticket) == ["See the invoice and the log."]
    [kept] = db.scalars(select(Attachment).join(Message).where(Message.ticket_id == ticket.id))
    assert kept.filename == "invoice.pdf" and kept.size == len(small)
    stored = Path(app.config["ATTACHMENTS_DIR"]) / kept.storage_key[:2] / kept.storage_key
    assert stored.read_bytes() == small
    refused = list(db.scalars(select(TicketEvent.old_value).where(TicketEvent.ticket_id == ticket.id,
                                                                   TicketEvent.kind == "attachment_refused")))
    assert refused == ["huge.log: larger than 1 MB", "run.exe: files of type .exe are not accepted"]
    login(client, agnes)
    page = client.get(f"/agent/tickets/{ticket.ref}").text
    assert "did not keep an e-mailed file: huge.log: larger than 1 MB" in page


def test_a_bounce_is_recorded_on_the_notification_log(deliver, app, db, client, make, alice, agnes, runner):
    ticket = make.ticket(requester=alice, subject="VPN drops")
    assert runner.invoke(args=["mail", "flush"]).exit_code == 0
    db.expire_all()
    sent = db.scalar(select(Notification).where(Notification.ticket_id == ticket.id))
    assert sent.status == "sent"

    deliver(sample("bounce_dsn.eml", n="1", recipient="alice@example.com", ref=ticket.ref,
                   message_id=sent.message_id), envelope_from="")

    db.expire_all()
    assert tickets_of(db, "alice@example.com") == [ticket]
    assert db.scalar(select(func.count()).select_from(Ticket)) == 1
    db.refresh(sent)
    assert sent.status == "failed" and sent.last_error.startswith("Bounced: 5.1.1")
    assert "User unknown" in sent.last_error
    login(client, agnes)
    page = client.get(f"/agent/tickets/{ticket.ref}").text
    assert "Bounced: 5.1.1" in page


# ---- IMAP ------------------------------------------------------------------------------------------------


class _ImapMailbox(socketserver.ThreadingTCPServer):
    """The smallest real IMAP4rev1 server imaplib can talk to: one folder, LOGIN, UID SEARCH/FETCH/STORE."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, messages: list[bytes]) -> None:
        self.messages = {uid: raw for uid, raw in enumerate(messages, start=1)}
        self.seen: set[int] = set()
        super().__init__(("127.0.0.1", 0), _ImapSession)


class _ImapSession(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        box: _ImapMailbox = self.server  # type: ignore[assignment]
        self.wfile.write(b"* OK IMAP4rev1 test server ready\r\n")
        while line := self.rfile.readline():
            tag, _, rest = line.decode().strip().partition(" ")
            command, _, args = rest.partition(" ")
            command = command.upper()
            if command == "UID":
                command, _, args = args.partition(" ")
                command = "UID " + command.upper()
            out = b""
            if command == "CAPABILITY":
                out = b"* CAPABILITY IMAP4rev1\r\n"
            elif command == "LOGIN" and [word.strip('"') for word in args.split()] != ["support", "secret"]:
                self.wfile.write(f"{tag} NO wrong password\r\n".encode())
                continue
            elif command == "SELECT":
                out = f"* {len(box.messages)} EXISTS\r\n* 0 RECENT\r\n".encode()
            elif command == "UID SEARCH":
                unseen = " ".join(str(uid) for uid in box.messages if uid not in box.seen)
                out = f"* SEARCH {unseen}\r\n".encode()
            elif command == "UID FETCH":
                uid = int(args.split()[0])
                raw = box.messages[uid]
                out = f"* {uid} FETCH (UID {uid} BODY[] {{{len(raw)}}}\r\n".encode() + raw + b")\r\n"
            elif command == "UID STORE":
                uid = int(args.split()[0])
                box.seen.add(uid)
                out = f"* {uid} FETCH (UID {uid} FLAGS (\\Seen))\r\n".encode()
            elif command == "LOGOUT":
                self.wfile.write(f"* BYE\r\n{tag} OK LOGOUT completed\r\n".encode())
                return
            self.wfile.write(out + f"{tag} OK {command} completed\r\n".encode())


@pytest.fixture
def imap_mailbox():
    messages = [mail(subject="Via IMAP one", message_id="<imap-1@example.net>"),
                mail(sender="bob@example.com", subject="Via IMAP two", message_id="<imap-2@example.net>")]
    server = _ImapMailbox(messages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_poll_reads_the_unseen_imap_messages_through_the_same_service(app, db, runner, imap_mailbox, bob):
    app.config.update(IMAP_HOST="127.0.0.1", IMAP_PORT=imap_mailbox.server_address[1], IMAP_USER="support",
                      IMAP_PASSWORD="secret", IMAP_SSL=False)

    first = runner.invoke(args=["mail", "poll"])

    assert first.exit_code == 0, first.output
    assert "created 2" in first.output
    assert [t.subject for t in tickets_of(db, "carol@example.net")] == ["Via IMAP one"]
    assert [t.subject for t in tickets_of(db, "bob@example.com")] == ["Via IMAP two"]
    assert imap_mailbox.seen == {1, 2}
    again = runner.invoke(args=["mail", "poll"])
    assert "nothing new" in again.output
    # A message read twice (the flag was lost, two hosts polling) is still acted on once.
    imap_mailbox.seen.clear()
    assert "duplicate 2" in runner.invoke(args=["mail", "poll"]).output
    assert len(tickets_of(db, "carol@example.net")) == 1


def test_poll_without_a_server_configured_says_what_to_set(runner):
    result = runner.invoke(args=["mail", "poll"])
    assert result.exit_code != 0 and "PORTAL_IMAP_HOST" in result.output


def test_poll_with_a_wrong_password_fails_with_a_clear_message(app, runner, imap_mailbox):
    app.config.update(IMAP_HOST="127.0.0.1", IMAP_PORT=imap_mailbox.server_address[1], IMAP_USER="support",
                      IMAP_PASSWORD="wrong", IMAP_SSL=False)
    result = runner.invoke(args=["mail", "poll"])
    assert result.exit_code == 1 and "Could not read the mailbox 127.0.0.1" in result.output
    assert imap_mailbox.seen == set()


# ---- The real command --------------------------------------------------------------------------------------


def test_the_serve_command_receives_mail_until_stopped(app, db, database_url, tmp_path):
    """`flask --app app mail serve` as an operator runs it: a separate process on PORTAL_MAIL_LISTEN."""
    port = _free_port()
    env = {**os.environ, "PORTAL_DATABASE_URL": database_url, "PORTAL_INSTANCE_PATH": str(tmp_path / "served"),
           "PORTAL_SECRET_KEY": "test-secret-key", "PORTAL_MAIL_LISTEN": f"127.0.0.1:{port}",
           "PORTAL_KB_INDEX_DIR": str(tmp_path / "served-index")}
    process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "mail", "serve"], cwd=REPO, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
                    client.sendmail("carol@example.net", [SUPPORT], mail().replace(b"\n", b"\r\n"))
                break
            except (ConnectionRefusedError, smtplib.SMTPServerDisconnected):
                assert process.poll() is None and time.monotonic() < deadline, process.stdout.read().decode()
                time.sleep(0.2)
        [ticket] = tickets_of(db, "carol@example.net")
        assert ticket.channel == "email"
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=30)[0].decode()
    assert process.returncode == 0, output
    assert f"Receiving mail on 127.0.0.1:{port}." in output


def test_a_storage_failure_asks_the_sender_to_retry_and_loses_nothing(app, db, runner, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the attachment folder should be")
    app.config["ATTACHMENTS_DIR"] = str(blocked)
    raw = mail(attachments=(("invoice.pdf", b"%PDF-1.4"),))

    result = runner.invoke(args=["mail", "ingest"], input=raw)
    assert result.exit_code == 75  # EX_TEMPFAIL: the MTA keeps the message and delivers it again
    port = _free_port()
    controller = start_server(app, "127.0.0.1", port)
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client, pytest.raises(smtplib.SMTPDataError) as refused:
            client.sendmail("carol@example.net", [SUPPORT], raw.replace(b"\n", b"\r\n"))
    finally:
        controller.stop()
    assert refused.value.smtp_code == 451
    assert tickets_of(db, "carol@example.net") == [] and db.scalar(select(InboundMail)) is None

    app.config["ATTACHMENTS_DIR"] = str(tmp_path / "attachments")
    assert runner.invoke(args=["mail", "ingest"], input=raw).exit_code == 0
    assert len(tickets_of(db, "carol@example.net")) == 1
