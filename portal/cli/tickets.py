"""Ticket commands for cron: `flask --app app tickets sla-check`, and `tickets auto-close`, which now runs the
automations (the former timers are default automations, services.rules.defaults)."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask.cli import AppGroup

from portal.clock import utcnow
from portal.extensions import db_session

group = AppGroup("tickets", help="Tickets: checks run by cron.")


def parse_now(value: str | None) -> datetime:
    """An ISO time (naive = UTC, or with an offset) as naive UTC; now when not given."""
    if not value:
        return utcnow()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"not an ISO date and time: {value!r}") from exc
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


@group.command("auto-close")
@click.option("--now", "now_text", metavar="ISO", help="Act as if it were this time (UTC), e.g. 2026-12-01T08:00.")
@click.option("--no-mail", is_flag=True, help="Only queue the e-mails; `mail flush` sends them.")
def auto_close(now_text: str | None, no_mail: bool) -> None:
    """Kept for existing crontabs: runs the automations, as `rules run-automations` does. Closing solved tickets,
    reminding and solving pending ones are default automations now (Admin → Rules)."""
    from portal.cli.rules import run_and_report

    click.echo("Closing, reminding and solving are automations now (Admin → Rules): running every enabled "
               "automation, as `flask --app app rules run-automations` does.")
    run_and_report(now_text, no_mail)


@group.command("sla-check")
@click.option("--now", "now_text", metavar="ISO", help="Act as if it were this time (UTC), e.g. 2026-12-01T08:00.")
def sla_check(now_text: str | None) -> None:
    """Record SLA breaches (once per ticket) and warn assignees of targets due within the hour. Run it every few
    minutes from cron; safe to repeat."""
    from portal.services import sla

    session = db_session()
    report = sla.check(session, now=parse_now(now_text))
    session.commit()
    click.echo(f"Breached {len(report.breached)}, warned {len(report.warned)}.")
