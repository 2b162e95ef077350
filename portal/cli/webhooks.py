"""Webhook deliveries, for cron: `flask --app app webhooks deliver [--now ISO]`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from portal.cli.tickets import parse_now
from portal.extensions import db_session
from portal.services import webhooks
from portal.views.admin_webhooks import delivery_settings

group = AppGroup("webhooks", help="Webhooks: send queued deliveries.")


@group.command("deliver")
@click.option("--now", "now_text", metavar="ISO", help="Act as if it were this time (UTC), e.g. 2026-12-01T08:00.")
@click.option("--limit", default=200, show_default=True, help="Most deliveries to try in this run.")
def deliver(now_text: str | None, limit: int) -> None:
    """Send the webhook deliveries that are due, retrying failed ones with growing delays. Run it every minute
    from cron; safe to run on several hosts at once."""
    report = webhooks.deliver_due(db_session(), delivery_settings(), now=parse_now(now_text), limit=limit)
    click.echo(f"Delivered {len(report.delivered)}, will retry {len(report.retrying)}, "
               f"gave up on {len(report.failed)}.")
