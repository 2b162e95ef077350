"""The e-mail outbox: `flask --app app mail flush` sends every notification still owed."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from portal.extensions import db_session
from portal.services import notifications
from portal.views import notify_dispatch

group = AppGroup("mail", help="Outgoing e-mail.")


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
