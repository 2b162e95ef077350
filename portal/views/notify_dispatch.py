"""The outbox's Flask side: render queued `Notification` rows and send them.

Services only insert rows (see `portal/services/notifications.py`). After a request, `after_request` sends
the rows that request queued, once the view has committed; `flask --app app mail flush` sends whatever is
still owed (the SMTP server was down, the process died). Every row is claimed with an atomic UPDATE in a
session of our own, committed before the mail goes out, so two processes never send the same row, and the
request's own session is never committed by us.

Threading: the first mail about a ticket ("we received your request") carries the ticket's root
Message-ID, `<ticket-MSA-XXXX-XXXX@domain>`; every later one has its own id and points at the root with
In-Reply-To and References, so mail clients show one conversation per ticket.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from flask import Flask, current_app, g
from flask_babel import gettext as _
from sqlalchemy import inspect
from werkzeug.wrappers import Response

from portal.clock import utcnow
from portal.markdown_render import render_markdown
from portal.models import Message, Notification
from portal.services import notifications, satisfaction
from portal.services.mail import links as mail_links
from portal.services.mail import outgoing
from portal.services.mail.headers import parse_mailbox
from portal.services.mail.reply_addresses import ReplyAddresses
from portal.services.rules import defaults, placeholders
from portal.services.ticket_links import TicketLinks
from portal.status import customer_status
from portal.views.mailer import absolute_url, base_url, render_email, settings

log = logging.getLogger(__name__)

TEMPLATES = {
    "ticket_created": "ticket_created",
    "public_reply": "ticket_reply",
    "status_pending": "ticket_pending",
    "status_solved": "ticket_solved",
    "status_closed": "ticket_closed",
    "pending_reminder": "ticket_reminder",
    "rule_email": "rule_email",  # a business rule's "send an e-mail" (services.rules.actions)
}


class Undeliverable(Exception):
    """The mail no longer makes sense (its reply was deleted, its template is unknown)."""


@dataclass
class DispatchReport:
    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # another process had it
    server_down: bool = False


def init_app(app: Flask) -> None:
    app.after_request(_send_what_the_request_queued)


def _send_what_the_request_queued(response: Response) -> Response:
    """Runs after the view returned, i.e. after it committed. Never raises: the action has been saved
    already, and whatever is not sent now stays queued for `mail flush`."""
    session = g.get("db_session")
    queued = session.info.pop("queued_notifications", None) if session is not None else None
    if queued:
        try:
            # committed rows are persistent; the rows of a rolled-back transaction became transient
            dispatch([row.id for row in queued if inspect(row).persistent])
        except Exception:
            log.exception("Dispatching notifications failed; `flask mail flush` will retry them")
    return response


def reply_addresses(support: str | None = None) -> ReplyAddresses:
    address = parse_mailbox(support or str(current_app.config.get("MAIL_REPLY_TO") or settings().mail_from)).address
    return ReplyAddresses(str(current_app.config["SECRET_KEY"]), address)


def ticket_links() -> TicketLinks:
    days = int(current_app.config["AUTO_CLOSE_DAYS"]) + satisfaction.WINDOW_DAYS + 1
    return TicketLinks(str(current_app.config["SECRET_KEY"]), max_age=timedelta(days=days))


def dispatch(ids: Iterable[int]) -> DispatchReport:
    """Send these rows if they are still owed. Stops at the first sign that the server is down: the rest
    stay queued, untouched, for `mail flush`."""
    report = DispatchReport()
    with current_app.extensions["sessionmaker"]() as session:
        for notification_id in ids:
            _send_one(session, notification_id, report)
            if report.server_down:
                break
    return report


def flush(*, batch: int = 100) -> DispatchReport:
    """Everything still owed, oldest first, each row tried at most once per run."""
    report, after_id = DispatchReport(), 0
    while not report.server_down:
        with current_app.extensions["sessionmaker"]() as session:
            ids = notifications.due_ids(session, now=utcnow(), after_id=after_id, limit=batch)
        if not ids:
            break
        part = dispatch(ids)
        for name in ("sent", "failed", "skipped"):
            getattr(report, name).extend(getattr(part, name))
        report.server_down = part.server_down
        after_id = ids[-1]
    return report


def thread_root(ref: str, domain: str) -> str:
    return f"<ticket-{ref}@{domain}>"


def message_id_for(row: Notification, domain: str) -> str:
    if row.kind == "ticket_created":
        return thread_root(row.ticket.ref, domain)
    return f"<ticket-{row.ticket.ref}.n{row.id}@{domain}>"


def _send_one(session, notification_id: int, report: DispatchReport) -> None:
    mail_settings = settings()
    row = session.get(Notification, notification_id)
    if row is None:
        return
    if not notifications.claim(session, row.id, message_id=message_id_for(row, mail_settings.domain),
                               now=utcnow()):
        session.rollback()
        report.skipped.append(notification_id)
        return
    session.commit()
    session.refresh(row)
    try:
        message = build(session, row, mail_settings)
        outgoing.send(message, mail_settings)
    except (outgoing.MailError, Undeliverable) as exc:
        _failed(session, row, exc, report)
        report.server_down = _server_down(exc)
        return
    except Exception as exc:  # a template error must not stop the other mails
        log.exception("Could not render notification %s", row.id)
        _failed(session, row, exc, report)
        return
    notifications.mark_sent(session, row.id, now=utcnow())
    session.commit()
    report.sent.append(row.id)


def _failed(session, row: Notification, exc: Exception, report: DispatchReport) -> None:
    log.warning("Notification %s (%s to %s) not sent: %s", row.id, row.kind, row.recipient_email, exc)
    session.rollback()
    notifications.mark_failed(session, row.id, f"{type(exc).__name__}: {exc}", now=utcnow())
    session.commit()
    report.failed.append(row.id)


def _server_down(exc: Exception) -> bool:
    """Nobody answered (refused, timed out, hung up): the next mail would fare no better."""
    cause = exc.__cause__
    if isinstance(cause, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError):
        return True
    return isinstance(cause, OSError) and not isinstance(cause, smtplib.SMTPException)


def build(session, row: Notification, mail_settings: outgoing.MailSettings):
    """The e-mail for a row, rendered now, in the row's language."""
    template = TEMPLATES.get(row.kind)
    if template is None:
        raise Undeliverable(f"unknown notification kind {row.kind!r}")
    rendered = render_email(template, row.language, **_context(session, row))
    root = thread_root(row.ticket.ref, mail_settings.domain)
    # The receipt of a mailed-in ticket answers that mail automatically (RFC 3834); replies come back to the
    # support mailbox and thread by the reference in the subject and by In-Reply-To (services.mail.inbound).
    answered_mail = row.kind == "ticket_created" and row.ticket.channel == "email"
    support = str(current_app.config.get("MAIL_REPLY_TO") or mail_settings.mail_from)
    headers = {"Auto-Submitted": "auto-replied" if answered_mail else "auto-generated",
               "X-Mesa-Ticket": row.ticket.ref,
               "Reply-To": support}
    if row.kind.startswith("agent_") and row.recipient is not None and row.recipient.is_agent:
        # The agent's own reply address for this ticket: answering this mail is what makes their mail a
        # public reply (services.mail.reply_addresses); a From line alone is not.
        headers["Reply-To"] = reply_addresses(support).for_agent(row.recipient.id, row.ticket.ref)
    if row.kind != "ticket_created":
        headers.update({"In-Reply-To": root, "References": root})
    message = outgoing.build_message(
        to=row.recipient_email, to_name=row.recipient.name if row.recipient else None, subject=rendered.subject,
        text=rendered.text, html=rendered.html, language=rendered.language, settings=mail_settings,
        headers=headers,
    )
    del message["Message-ID"]
    message["Message-ID"] = row.message_id or message_id_for(row, mail_settings.domain)
    return message


def _context(session, row: Notification) -> dict[str, object]:
    ticket = row.ticket
    is_requester = row.recipient_id is not None and row.recipient_id == ticket.requester_id
    timers = defaults.current_timers(session)  # the automations as the admin left them; None: nobody does it
    context: dict[str, object] = {
        "ticket": ticket,
        "recipient_name": row.recipient.name if row.recipient else None,
        "ticket_url": _ticket_url(ticket.ref),
        "status_label": customer_status(ticket.status),
        "auto": bool(row.context.get("auto")),
        "days": row.context.get("days"),
        "auto_solve_days": timers.auto_solve.whole_days if timers.auto_solve else None,
        "auto_close_days": timers.auto_close.whole_days if timers.auto_close else None,
        "window_days": satisfaction.WINDOW_DAYS,
        "links": {},
    }
    if row.kind == "public_reply" or row.context.get("message_id"):
        message = session.get(Message, row.context.get("message_id") or 0)
        if message is None or not message.public or message.ticket_id != ticket.id:
            raise Undeliverable("the reply is gone or is not public")
        # a `/kb/...` link (or one pasted bare) points nowhere in a mail client: absolute before rendering, so
        # the HTML links it too (render_email does the same to the text part)
        body = mail_links.absolute_text(message.body, base_url(), markdown=True)
        context["message"] = message
        context["body_html"] = render_markdown(body, lang=row.language)  # sanitised (nh3)
        context["author_name"] = message.author.name if message.author else _("Mesa support")
    if row.kind == "rule_email":  # the admin's text; its placeholders are filled now, as plain values
        values = placeholders.ticket_values(ticket, url=context["ticket_url"], rule_name=row.context.get("rule", ""))
        context["rule_subject"] = " ".join(placeholders.fill(row.context.get("subject", ""), values).split())
        context["rule_body"] = mail_links.absolute_text(placeholders.fill(row.context.get("body", ""), values),
                                                        base_url())
    if is_requester:  # the links act as the requester: copies to CC addresses go without them
        context["links"] = _links(ticket, row.kind)
    return context


def _links(ticket, kind: str) -> dict[str, str]:
    links: dict[str, str] = {}
    signer = ticket_links()
    if kind == "status_solved" and ticket.status == "solved":
        for action in ("confirm", "reopen"):
            links[action] = absolute_url("satisfaction.ticket_link", token=signer.action_token(ticket, action))
    if kind in ("status_solved", "status_closed") and satisfaction.window_open(ticket, now=utcnow()):
        for rating in ("good", "bad"):
            links[rating] = absolute_url("satisfaction.rating_link", token=signer.rating_token(ticket, rating))
    return links


def _ticket_url(ref: str) -> str:
    if "tickets.show" in current_app.view_functions:
        return absolute_url("tickets.show", ref=ref)
    return f"{base_url()}/tickets/{ref}"
