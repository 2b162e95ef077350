"""Ticket timers, for cron: `flask --app app tickets auto-close [--now ISO]`."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale
from flask_babel import gettext as _

from portal.clock import utcnow
from portal.extensions import db_session
from portal.services import timers
from portal.views import notify_dispatch

group = AppGroup("tickets", help="Tickets: timers run by cron.")


def parse_now(value: str | None) -> datetime:
    """An ISO time (naive = UTC, or with an offset) as naive UTC; now when not given."""
    if not value:
        return utcnow()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"not an ISO date and time: {value!r}") from exc
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def auto_solve_message(language: str, days: int) -> str:
    """The public message added when a pending ticket is solved by the clock, in the ticket's language."""
    with force_locale(language):
        return _("We have not heard from you for %(days)s days, so we have marked this ticket as solved. "
                 "If you still need help, reply and we will pick it up again.", days=days)


def timer_settings() -> timers.TimerSettings:
    config = current_app.config
    return timers.TimerSettings(auto_close_days=int(config["AUTO_CLOSE_DAYS"]),
                                reminder_days=int(config["PENDING_REMINDER_DAYS"]),
                                auto_solve_days=int(config["PENDING_AUTO_SOLVE_DAYS"]))


@group.command("auto-close")
@click.option("--now", "now_text", metavar="ISO", help="Act as if it were this time (UTC), e.g. 2026-12-01T08:00.")
@click.option("--no-mail", is_flag=True, help="Only queue the e-mails; `mail flush` sends them.")
def auto_close(now_text: str | None, no_mail: bool) -> None:
    """Close solved tickets after AUTO_CLOSE_DAYS; remind and then solve pending ones. Safe to run on
    several hosts at once."""
    report = timers.run(db_session(), timer_settings(), now=parse_now(now_text),
                        auto_solve_message=auto_solve_message)
    click.echo(f"Closed {len(report.closed)}, reminded {len(report.reminded)}, solved {len(report.solved)}.")
    if report.notifications and not no_mail:
        sent = notify_dispatch.dispatch(report.notifications)
        click.echo(f"E-mails: {len(sent.sent)} sent, {len(sent.failed)} failed"
                   f"{' (mail server down: `mail flush` will retry)' if sent.server_down else ''}.")
    if report.errors:
        raise click.ClickException(f"Failed on ticket ids {', '.join(report.errors)}; see the log.")


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
