"""E-mail: `flask --app app mail flush` sends every notification still owed; `ingest`, `serve` and `poll`
receive mail (a pipe, an SMTP listener, an IMAP mailbox) through `services.mail.inbound`."""

from __future__ import annotations

import imaplib
import signal
import threading

import click
from flask import current_app
from flask.cli import AppGroup

from portal.cli import mail_inbound
from portal.extensions import db_session
from portal.services import notifications
from portal.views import notify_dispatch

group = AppGroup("mail", help="Outgoing and incoming e-mail.")
EX_TEMPFAIL = 75  # sysexits.h: the MTA keeps the message and tries again


@group.command("flush")
@click.option("--retry-failed", is_flag=True,
              help=f"Give rows that failed {notifications.MAX_ATTEMPTS} times a fresh set of attempts first.")
def flush(retry_failed: bool) -> None:
    """Send queued notifications (after an SMTP outage, or from cron as a safety net). Each row is claimed
    before it is sent, so running this on two hosts never sends a mail twice."""
    if retry_failed:
        count = notifications.requeue_failed(db_session())
        db_session().commit()
        click.echo(f"Requeued {count} failed e-mail(s).")
    report = notify_dispatch.flush()
    click.echo(f"Sent {len(report.sent)}, failed {len(report.failed)}, skipped {len(report.skipped)}.")
    if report.server_down:
        raise click.ClickException("The mail server is not answering; the rest stays queued.")


@group.command("ingest")
@click.argument("source", type=click.File("rb"), default="-")
def ingest(source) -> None:
    """Read one message from standard input (an MTA pipe: `| flask --app app mail ingest`) or a file. Exit
    status 75 (temporary failure) asks the MTA to deliver it again later."""
    raw = source.read()
    try:
        received = mail_inbound.receive(current_app._get_current_object(), raw)
    except Exception as exc:
        click.echo(f"Not processed, try again later: {exc}", err=True)
        raise SystemExit(EX_TEMPFAIL) from exc
    click.echo(f"{received.outcome} {received.ref or ''}".strip())


@group.command("serve")
@click.option("--listen", default=None, help="host:port (default: PORTAL_MAIL_LISTEN).")
def serve(listen: str | None) -> None:
    """Accept incoming mail over SMTP until stopped (Ctrl+C or SIGTERM)."""
    app = current_app._get_current_object()
    host, port = mail_inbound.listen_address(listen or str(app.config["MAIL_LISTEN"]))
    controller = mail_inbound.start_server(app, host, port)
    click.echo(f"Receiving mail on {host}:{port}.")
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


@group.command("poll")
def poll() -> None:
    """Read the IMAP mailbox once (PORTAL_IMAP_*): run it from cron or a systemd timer."""
    app = current_app._get_current_object()
    if not app.config.get("IMAP_HOST"):
        raise click.ClickException("Set PORTAL_IMAP_HOST (and the other PORTAL_IMAP_* settings) first.")
    try:
        report = mail_inbound.poll(app)
    except (imaplib.IMAP4.error, OSError) as exc:
        raise click.ClickException(f"Could not read the mailbox {app.config['IMAP_HOST']}: {exc}") from exc
    summary = ", ".join(f"{outcome} {count}" for outcome, count in sorted(report.outcomes.items())) or "nothing new"
    click.echo(f"Processed: {summary}; failed {report.failed}.")
    if report.failed:
        raise SystemExit(EX_TEMPFAIL)
