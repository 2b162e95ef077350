"""Incoming mail's transports, all through `services.mail.inbound.ingest`: one message from a pipe, an SMTP
listener (aiosmtpd), and an IMAP mailbox. Each message is handled in its own session and transaction; the
notifications it queued (the "we received your request" mail, an agent's reply) are sent after the commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import imaplib
import logging
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from portal.clock import utcnow
from portal.errors import DomainError
from portal.models import InboundMail
from portal.services.mail import inbound
from portal.services.mail.parsing import parse
from portal.views import notify_dispatch

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 40 * 1024 * 1024


@dataclass(frozen=True)
class Received:
    outcome: str
    ref: str | None = None


def receive(app: Flask, raw: bytes, *, envelope_sender: str | None = None,
            envelope_recipients: tuple[str, ...] = ()) -> Received:
    """Ingest one message and commit; then send what it queued. Raises on a temporary failure (database or
    attachment storage down), so the sender (MTA, SMTP client, IMAP poll) tries again later."""
    with app.app_context():
        settings = inbound.InboundSettings.from_config(app.config)
        with app.extensions["sessionmaker"]() as session:
            try:
                result = inbound.ingest(session, raw, settings=settings, envelope_sender=envelope_sender,
                                        envelope_recipients=envelope_recipients, now=utcnow())
                session.commit()
            except DomainError as exc:
                session.rollback()
                if exc.status_code >= 500:  # the attachment storage failed: worth another try later
                    raise
                result = inbound.record_refused(session, raw, exc, envelope_sender=envelope_sender, now=utcnow())
                session.commit()
            except IntegrityError:
                session.rollback()
                if _already_received(session, raw, envelope_sender):
                    return Received("duplicate")  # another process took the same message meanwhile
                raise
            queued = session.info.pop("queued_notifications", [])
            ids = [row.id for row in queued if inspect(row).persistent]
            received = Received(result.outcome, result.ticket.ref if result.ticket is not None else None)
        if ids:
            notify_dispatch.dispatch(ids)
    return received


def _already_received(session, raw: bytes, envelope_sender: str | None) -> bool:
    message_id = parse(raw, envelope_sender=envelope_sender).message_id
    return session.scalar(select(InboundMail.id).where(InboundMail.message_id == message_id)) is not None


# ---- SMTP ----------------------------------------------------------------------------------------------


class InboundHandler:
    """aiosmtpd's handler: every accepted message goes through `receive`, off the event loop."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's hook name)
        loop = asyncio.get_running_loop()
        content = envelope.original_content or envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode("utf-8")
        try:
            received = await loop.run_in_executor(
                None, functools.partial(receive, self.app, raw, envelope_sender=envelope.mail_from or "",
                                        envelope_recipients=tuple(envelope.rcpt_tos or ())))
        except Exception:
            log.exception("Incoming message from %s not processed; the sender will retry", envelope.mail_from)
            return "451 4.3.0 Temporary failure, please try again later"
        return f"250 2.0.0 Accepted ({received.outcome})"


def start_server(app: Flask, host: str, port: int) -> Controller:
    """A running SMTP listener on host:port; `stop()` it when done."""
    controller = Controller(InboundHandler(app), hostname=host, port=port, data_size_limit=MAX_MESSAGE_BYTES)
    controller.start()
    return controller


def listen_address(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    return (host or "127.0.0.1").strip("[]"), int(port)


# ---- IMAP ----------------------------------------------------------------------------------------------


@dataclass
class PollReport:
    outcomes: dict[str, int] = field(default_factory=dict)
    failed: int = 0


def poll(app: Flask) -> PollReport:
    """Read the unseen messages of the configured folder; each one processed is marked seen. A message that
    fails for a temporary reason stays unseen for the next run; one read twice is still acted on once."""
    config = app.config
    connection_class = imaplib.IMAP4_SSL if config["IMAP_SSL"] else imaplib.IMAP4
    report = PollReport()
    imap = connection_class(str(config["IMAP_HOST"]), int(config["IMAP_PORT"]))
    try:
        imap.login(str(config["IMAP_USER"] or ""), str(config["IMAP_PASSWORD"] or ""))
        imap.select(str(config["IMAP_FOLDER"] or "INBOX"))
        _status, data = imap.uid("SEARCH", None, "UNSEEN")
        for uid in (data[0] or b"").split():
            _status, fetched = imap.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((part[1] for part in fetched if isinstance(part, tuple)), None)
            if raw is None:
                continue
            try:
                received = receive(app, raw)
            except Exception:
                log.exception("IMAP message %s not processed; it stays unseen", uid)
                report.failed += 1
                continue
            report.outcomes[received.outcome] = report.outcomes.get(received.outcome, 0) + 1
            imap.uid("STORE", uid, "+FLAGS", "(\\Seen)")
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            imap.logout()
    return report
