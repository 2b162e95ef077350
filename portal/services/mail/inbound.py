"""The e-mail channel: one incoming message becomes a new ticket, a reply on its ticket, a follow-up of a
closed ticket, a bounce on the notification log, or nothing at all, and the mailbox log says which.

`ingest(session, raw, ...)` is the one entry point for every transport (`flask mail ingest` from an MTA pipe,
`flask mail serve` over SMTP, `flask mail poll` from IMAP). It never commits; the caller commits and then
sends the notifications queued in the same transaction.

The rules, in the order they are applied:
- the same Message-ID twice is acted on once (a unique row per Message-ID);
- our own mail coming back, bounces, auto-replies (Auto-Submitted other than "no") and bulk or list mail
  (Precedence) never open a ticket or make us answer: bounces are written on the notification log;
- the sender is the one address of an unambiguous From header (`headers.read_sender`); a From header
  in doubt (two addresses, an address as the display name, encoded tricks, or DMARC failed by the operator's
  trusted MTA) makes the mail an unknown sender's: it is never a reply, and without any usable address it is
  refused with its text kept in the log;
- a reply is threaded by In-Reply-To/References (our Message-IDs carry the ticket reference, and earlier
  incoming mails are remembered) and by the reference in the subject, but only when the sender is the
  requester, a person in copy or an agent. Anyone else gets a ticket of their own, so a stranger quoting a
  reference never writes into someone else's conversation;
- a customer's reply goes the same way as a reply in the portal (`tickets.customer_reply`, so the status
  machine and the "thanks only" rule apply); on a closed ticket it files a linked follow-up;
- an agent's reply is a public agent reply only when more than its From line says so: it was sent to the
  agent's reply address for that ticket (`reply_addresses`, a secret the agent's notification mail carries)
  or the operator's MTA vouches for the From domain (`MAIL_TRUSTED_AUTHSERV_ID`, DMARC pass). Otherwise it
  is held on the ticket as a private note for the agents, never sent to the customer;
- one address opens at most `max_new_per_hour` tickets per hour.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from portal.errors import DomainError
from portal.models import InboundMail, Message, Notification, Ticket, TicketEvent, User
from portal.services import accounts, notifications, tickets
from portal.services.attachments import BLOCKED_EXTENSIONS, AttachmentStore, Upload, extension, safe_filename
from portal.services.mail.headers import clean_text, dmarc_result, parse_mailbox
from portal.services.mail.parsing import OWN_MESSAGE_ID, REF_IN_TEXT, MailFile, ParsedMail, parse, reply_text
from portal.services.mail.reply_addresses import ReplyAddresses
from portal.services.ticket_ccs import EMAIL
from portal.status import Status

NEW_TICKET_OUTCOMES = ("created", "follow_up")


@dataclass(frozen=True)
class InboundSettings:
    domain: str  # of our own Message-IDs
    own_addresses: frozenset[str]  # our sender and reply-to addresses: mail from them is a loop
    max_new_per_hour: int
    store: AttachmentStore
    default_language: str = "en"
    reply_addresses: ReplyAddresses | None = None  # agents' reply addresses (None: agents cannot reply by mail)
    trusted_authserv_id: str = ""  # the operator's MTA, whose Authentication-Results header is believed

    @classmethod
    def from_config(cls, config: dict) -> InboundSettings:
        addresses = {parse_mailbox(str(config.get(key) or "")).address for key in ("MAIL_FROM", "MAIL_REPLY_TO")}
        sender = parse_mailbox(str(config["MAIL_FROM"])).address
        support = parse_mailbox(str(config.get("MAIL_REPLY_TO") or config["MAIL_FROM"])).address
        return cls(
            domain=(sender.rpartition("@")[2] or "localhost").lower(),
            own_addresses=frozenset(a for a in addresses if a),
            max_new_per_hour=int(config["MAIL_MAX_PER_SENDER_PER_HOUR"]),
            store=AttachmentStore.from_config(config),
            default_language=str(config.get("DEFAULT_LANGUAGE") or "en"),
            reply_addresses=ReplyAddresses(str(config["SECRET_KEY"]), support) if support else None,
            trusted_authserv_id=str(config.get("MAIL_TRUSTED_AUTHSERV_ID") or "").strip(),
        )


@dataclass(frozen=True)
class Ingested:
    outcome: str  # one of models.INBOUND_OUTCOMES
    record: InboundMail
    ticket: Ticket | None = None


def ingest(session: Session, raw: bytes, *, settings: InboundSettings, envelope_sender: str | None = None,
           envelope_recipients: tuple[str, ...] = (), now: datetime) -> Ingested:
    """Act on one incoming message (see the module's docstring) and log what was done. A domain error
    (the status machine refuses, say) is raised: roll back, then call `record_refused`."""
    parsed = parse(raw, envelope_sender=envelope_sender, envelope_recipients=envelope_recipients)
    earlier = session.scalar(select(InboundMail).where(InboundMail.message_id == parsed.message_id))
    if earlier is not None:
        ticket = session.get(Ticket, earlier.ticket_id) if earlier.ticket_id else None
        return Ingested("duplicate", earlier, ticket)
    if _is_our_own(session, parsed, settings):
        return _logged(session, parsed, "own", now=now)
    if parsed.is_bounce:
        return _bounce(session, parsed, now=now)
    if parsed.is_automatic:
        return _logged(session, parsed, "auto", now=now, detail=parsed.automatic_detail)
    if not EMAIL.match(parsed.sender):
        reason = f" ({parsed.sender_problem})" if parsed.sender_problem else ""
        return _logged(session, parsed, "refused", now=now,
                       detail=_kept_text(f"No usable sender address{reason}.", parsed))
    if _dmarc(parsed, settings) == "fail":
        parsed.sender_problem = f"DMARC failed for the sender's domain (checked by {settings.trusted_authserv_id})"
    sender = accounts.find_by_email(session, parsed.sender)
    if sender is not None and not sender.active:
        return _logged(session, parsed, "refused", now=now, detail="The sender's account is deactivated.")
    return _act(session, parsed, sender, settings, now=now)


def record_refused(session: Session, raw: bytes, error: DomainError, *, envelope_sender: str | None = None,
                   now: datetime) -> Ingested:
    """`ingest` raised a domain error (an agent answering a closed ticket, say): after the caller rolled
    back, the message is logged as refused, so it is not tried again and the reason is kept."""
    parsed = parse(raw, envelope_sender=envelope_sender)
    return _logged(session, parsed, "refused", now=now, detail=f"{type(error).__name__}: {error.message}")


def _act(session: Session, parsed: ParsedMail, sender: User | None, settings: InboundSettings, *,
         now: datetime) -> Ingested:
    ignored: list[str] = []
    for ticket in _referenced_tickets(session, parsed, settings):
        standing = _standing(ticket, sender, parsed, settings)
        if standing is None:
            ignored.append(ticket.ref)
            continue
        if standing == "agent":
            return _agent_reply(session, parsed, ticket, sender, settings, now=now)  # type: ignore[arg-type]
        if standing == "unverified_agent":
            return _held_for_agents(session, parsed, ticket, settings, now=now)
        return _customer_reply(session, parsed, ticket, sender, settings, now=now)
    notes = [f"Ambiguous sender ({parsed.sender_problem}): treated as an unknown sender."] \
        if parsed.sender_problem else []
    if ignored:
        notes.append(f"Sender not on {', '.join(ignored)}: filed as a new ticket.")
    return _new_ticket(session, parsed, sender, settings, now=now, detail=" ".join(notes) or None)


# ---- Who may write into which ticket ------------------------------------------------------------------------


def _referenced_tickets(session: Session, parsed: ParsedMail, settings: InboundSettings) -> list[Ticket]:
    """The tickets the message answers, most specific first: the mail it replies to, then the ones it
    references, then the reference in the subject."""
    found: list[Ticket] = []

    def add(ticket: Ticket | None) -> None:
        if ticket is not None and ticket not in found:
            found.append(ticket)

    for message_id in parsed.referenced_ids:
        ours = OWN_MESSAGE_ID.match(message_id)
        if ours and ours.group("domain").lower() == settings.domain:
            for ref in REF_IN_TEXT.findall(message_id.upper()):
                add(session.scalar(select(Ticket).where(Ticket.ref == ref)))
            continue
        ticket_id = session.scalar(select(InboundMail.ticket_id).where(InboundMail.message_id == message_id))
        add(session.get(Ticket, ticket_id) if ticket_id else None)
    for ref in parsed.refs_in_subject:
        add(session.scalar(select(Ticket).where(Ticket.ref == ref)))
    return found


def _standing(ticket: Ticket, sender: User | None, parsed: ParsedMail, settings: InboundSettings) -> str | None:
    if parsed.sender_problem:
        return None  # a From header in doubt is nobody's reply
    if sender is not None and sender.id == ticket.requester_id:
        return "requester"
    if any(cc.email == parsed.sender for cc in ticket.ccs):
        return "cc"
    if sender is not None and sender.is_agent:
        return "agent" if _agent_verified(parsed, sender, ticket, settings) else "unverified_agent"
    return None


def _agent_verified(parsed: ParsedMail, agent: User, ticket: Ticket, settings: InboundSettings) -> bool:
    """A From line is not enough for an agent: the mail went to their reply address for this ticket, or the
    operator's MTA vouches for the From domain."""
    if settings.reply_addresses is not None and settings.reply_addresses.verifies(
            parsed.recipients, agent_id=agent.id, ref=ticket.ref):
        return True
    return _dmarc(parsed, settings) == "pass"


def _dmarc(parsed: ParsedMail, settings: InboundSettings) -> str:
    return dmarc_result(parsed.authentication_results, settings.trusted_authserv_id,
                        parsed.sender.rpartition("@")[2])


def _is_our_own(session: Session, parsed: ParsedMail, settings: InboundSettings) -> bool:
    if parsed.sender in settings.own_addresses:
        return True
    ours = OWN_MESSAGE_ID.match(parsed.message_id)
    if ours and ours.group("domain").lower() == settings.domain:
        return True
    return session.scalar(
        select(Notification.id).where(Notification.message_id == parsed.message_id).limit(1)) is not None


# ---- What the message becomes -------------------------------------------------------------------------------


def _new_ticket(session: Session, parsed: ParsedMail, sender: User | None, settings: InboundSettings, *,
                now: datetime, detail: str | None) -> Ingested:
    """A ticket for the sender (an unverified account is made for an unknown address: they can claim it with
    a password reset), in the language the mail is written in (`routing.ticket_language`), in the default group
    when an admin chose one."""
    if _new_tickets_last_hour(session, parsed.sender, now=now) >= settings.max_new_per_hour:
        return _logged(session, parsed, "rate_limited", now=now,
                       detail=f"More than {settings.max_new_per_hour} new tickets in an hour.")
    requester = sender or _unverified_customer(session, parsed, now=now)
    subject = _new_subject(parsed)
    uploads, refused = _uploads(parsed.files, settings.store)
    filed = tickets.create_ticket(
        session, requester=requester, subject=subject, description=_fit(parsed.text) or subject, channel="email",
        language=None, default_language=settings.default_language, uploads=uploads, store=settings.store,
        actor=requester, now=now,
    )
    message = filed.ticket.messages[0]
    _note_refused(session, filed.ticket, refused, now=now)
    return _logged(session, parsed, "created", now=now, ticket=filed.ticket, message=message,
                   detail=_join(detail, refused))


def _customer_reply(session: Session, parsed: ParsedMail, ticket: Ticket, sender: User | None,
                    settings: InboundSettings, *, now: datetime) -> Ingested:
    """The requester or someone in copy answers: the requester's side of the status machine, exactly as a
    reply in the portal; the message keeps its real author."""
    author = sender or _unverified_customer(session, parsed, now=now)
    body = _fit(reply_text(parsed.text)) or parsed.clean_subject or parsed.subject
    uploads, refused = _uploads(parsed.files, settings.store)
    requester = ticket.requester
    if Status(ticket.status) is Status.CLOSED:
        if _new_tickets_last_hour(session, parsed.sender, now=now) >= settings.max_new_per_hour:
            return _logged(session, parsed, "rate_limited", now=now,
                           detail=f"More than {settings.max_new_per_hour} new tickets in an hour.")
        filed = tickets.create_follow_up(
            session, ticket, subject=_new_subject(parsed) or ticket.subject, description=body, uploads=uploads,
            store=settings.store, actor=requester, now=now,
        )
        filed.ticket.channel = "email"
        message = filed.ticket.messages[0]
        message.channel, message.author = "email", author
        _note_refused(session, filed.ticket, refused, now=now)
        return _logged(session, parsed, "follow_up", now=now, ticket=filed.ticket, message=message,
                       detail=_join(f"Follow-up of {ticket.ref}.", refused))
    message = tickets.customer_reply(session, ticket, body=body, uploads=uploads, store=settings.store,
                                     actor=requester, now=now)
    message.channel, message.author = "email", author
    _note_refused(session, ticket, refused, now=now)
    return _logged(session, parsed, "replied", now=now, ticket=ticket, message=message, detail=_join(None, refused))


def _agent_reply(session: Session, parsed: ParsedMail, ticket: Ticket, agent: User, settings: InboundSettings, *,
                 now: datetime) -> Ingested:
    """An agent answers from their mail client: a public reply, e-mailed to the customer as usual."""
    uploads, refused = _uploads(parsed.files, settings.store)
    body = _fit(reply_text(parsed.text)) or parsed.clean_subject or parsed.subject
    message = tickets.agent_reply(session, ticket, body=body, public=True, uploads=uploads, store=settings.store,
                                  actor=agent, now=now)
    message.channel = "email"
    _note_refused(session, ticket, refused, now=now)
    return _logged(session, parsed, "replied", now=now, ticket=ticket, message=message, detail=_join(None, refused))


def _held_for_agents(session: Session, parsed: ParsedMail, ticket: Ticket, settings: InboundSettings, *,
                     now: datetime) -> Ingested:
    """Mail from an agent's address that nothing else vouches for: it may be the agent (who answered the
    general address) or someone using their address. Kept on the ticket as a private note by nobody in
    particular, with an event saying so; never sent to the customer."""
    held = session.scalar(select(func.count()).select_from(InboundMail).where(
        InboundMail.sender == parsed.sender, InboundMail.outcome == "held",
        InboundMail.received_at > now - timedelta(hours=1))) or 0
    if held >= settings.max_new_per_hour:
        return _logged(session, parsed, "rate_limited", now=now,
                       detail=_kept_text(f"More than {settings.max_new_per_hour} unverified agent mails in an hour.",
                                         parsed))
    if Status(ticket.status) is Status.CLOSED:
        return _logged(session, parsed, "refused", now=now, ticket=ticket,
                       detail=_kept_text("Unverified agent mail on a closed ticket.", parsed))
    uploads, refused = _uploads(parsed.files, settings.store)
    stored = settings.store.save(uploads, now=now) if uploads else []
    body = _fit(reply_text(parsed.text)) or parsed.clean_subject or parsed.subject or "—"
    message = tickets.add_message(session, ticket, body=body, author=None, public=False, now=now, channel="email",
                                  attachments=stored)
    session.add(TicketEvent(ticket=ticket, actor=None, created_at=now, kind="mail_unverified", field="sender",
                            old_value=parsed.sender[:255]))
    _note_refused(session, ticket, refused, now=now)
    detail = (f"From agent {parsed.sender}, but not sent to their reply address for {ticket.ref} nor vouched for "
              "by the trusted MTA: held as a private note, not sent to the customer.")
    return _logged(session, parsed, "held", now=now, ticket=ticket, message=message, detail=_join(detail, refused))


def _bounce(session: Session, parsed: ParsedMail, *, now: datetime) -> Ingested:
    """A mail we sent came back: the notification it was is marked on the ticket's e-mail log, for each
    recipient whose delivery failed. A report that names no failed recipient (delayed, relayed) marks
    nothing."""
    if not parsed.bounced_recipients:
        return _logged(session, parsed, "bounce", now=now, detail="A delivery report without a failed recipient.")
    recipient = parsed.bounced_recipients[0]
    for message_id in parsed.bounced_ids:
        row = notifications.record_bounce(session, message_id, recipient=recipient, reason=parsed.bounce_reason,
                                          now=now)
        if row is not None:
            return _logged(session, parsed, "bounce", now=now, ticket=row.ticket, notification=row,
                           detail=parsed.bounce_reason or None)
    return _logged(session, parsed, "bounce", now=now, detail="No notification of ours matches this bounce.")


# ---- Helpers -----------------------------------------------------------------------------------------------


def _unverified_customer(session: Session, parsed: ParsedMail, *, now: datetime) -> User:
    name = parsed.sender_name or parsed.sender.partition("@")[0]
    name = clean_text(name).replace("=?", "= ?")[:120] or "?"  # a name, never header syntax (person_names)
    user = accounts.create_user(session, email=parsed.sender, name=name, password=None, now=now)
    user.verified = False
    return user


def _fit(text: str) -> str:
    """A message longer than the portal takes is cut rather than lost (the portal's forms say the limit)."""
    return text if len(text) <= tickets.BODY_MAX else text[: tickets.BODY_MAX - 1].rstrip() + "…"


def _new_tickets_last_hour(session: Session, sender: str, *, now: datetime) -> int:
    """Counted while holding the sender's lock, kept until the caller commits: two processes receiving mail
    from one address at once (MTA pipes, `mail serve` on two hosts) would otherwise both count below the limit
    and both open a ticket."""
    _lock_sender(session, sender)
    return session.scalar(
        select(func.count()).select_from(InboundMail).where(
            InboundMail.sender == sender, InboundMail.outcome.in_(NEW_TICKET_OUTCOMES),
            InboundMail.received_at > now - timedelta(hours=1))
    ) or 0


def _lock_sender(session: Session, sender: str) -> None:
    if session.get_bind().dialect.name == "postgresql":
        digest = hashlib.sha256(b"mesa-mail-sender:" + sender.lower().encode("utf-8", "surrogatepass")).digest()
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                        {"key": int.from_bytes(digest[:8], "big", signed=True)})
    else:  # SQLite: a write statement takes the database's write lock, even one that changes no row
        session.execute(text("UPDATE inbound_mails SET id = id WHERE 0 = 1"))


def _new_subject(parsed: ParsedMail) -> str:
    """The sender's subject without reply prefixes or ticket references (those name other tickets)."""
    subject = REF_IN_TEXT.sub("", parsed.clean_subject)
    subject = re.sub(r"\[\s*\]", "", subject)
    subject = " ".join(re.sub(r"^\W+", "", subject).split())
    if not subject:
        first_line = next((line for line in parsed.text.split("\n") if line.strip()), "")
        subject = first_line.strip()[:80] or parsed.sender
    return subject[:tickets.SUBJECT_MAX]


def _uploads(files: list[MailFile], store: AttachmentStore) -> tuple[list[Upload], list[str]]:
    """The attachments the portal would accept; the others are listed (name: why) and left out, so the
    message itself is never lost because of a file."""
    uploads: list[Upload] = []
    refused: list[str] = []
    for file in files:
        name = safe_filename(file.filename)
        if extension(name) in BLOCKED_EXTENSIONS:
            refused.append(f"{name}: files of type .{extension(name)} are not accepted")
        elif len(file.content) > store.max_bytes:
            refused.append(f"{name}: larger than {store.max_mb} MB")
        elif len(uploads) >= store.max_count:
            refused.append(f"{name}: more than {store.max_count} files")
        else:
            uploads.append(Upload(file.filename, io.BytesIO(file.content)))
    return uploads, refused


def _note_refused(session: Session, ticket: Ticket, refused: list[str], *, now: datetime) -> None:
    """Agents see in the ticket's history which attached files were not kept."""
    for item in refused:
        session.add(TicketEvent(ticket=ticket, actor=None, created_at=now, kind="attachment_refused",
                                field="attachment", old_value=item[:255]))


def _kept_text(detail: str, parsed: ParsedMail) -> str:
    """A mail that is not acted on keeps its text in the log, so nothing anyone sent is lost."""
    return f"{detail}\nSubject: {parsed.subject}\n\n{_fit(parsed.text)}" if parsed.text else detail


def _join(detail: str | None, refused: list[str]) -> str | None:
    parts = ([detail] if detail else []) + [f"Attachment not kept: {item}" for item in refused]
    return "\n".join(parts) or None


def _logged(session: Session, parsed: ParsedMail, outcome: str, *, now: datetime, ticket: Ticket | None = None,
            message: Message | None = None, notification: Notification | None = None,
            detail: str | None = None) -> Ingested:
    if ticket is not None or message is not None:
        session.flush()  # the ids of what this mail created
    record = InboundMail(
        message_id=parsed.message_id, sender=parsed.sender[:254], subject=parsed.subject[:200], outcome=outcome,
        detail=detail, ticket_id=ticket.id if ticket is not None else None, received_at=now,
        ticket_message_id=message.id if message is not None else None,
        notification_id=notification.id if notification is not None else None,
    )
    session.add(record)
    session.flush()
    return Ingested(outcome, record, ticket)
