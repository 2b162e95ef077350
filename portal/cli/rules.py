"""Business rules without the web: `flask --app app rules export`, `rules import FILE [--replace]`, and
`rules run-automations`, which the background worker runs (`flask --app app worker`), or cron every hour:

    0 * * * *  cd /srv/mesa && .venv/bin/flask --app app rules run-automations

It also brings back the postponed tickets whose time has come (services.postpone). It is safe on several hosts
at once (each ticket is claimed before an automation acts on it, or before it is brought back)."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup
from sqlalchemy import select

from portal.clock import utcnow
from portal.errors import Invalid
from portal.extensions import db_session
from portal.models import User
from portal.services.rules import manage

group = AppGroup("rules", help="Business rules: export and import them as JSON; run the automations (cron).")

AS_OPTION = click.option("--as", "as_email", metavar="EMAIL",
                         help="The admin the audit trail names (default: the first active admin).")


def _admin(as_email: str | None) -> User:
    query = select(User).where(User.role == "admin", User.active.is_(True))
    if as_email:
        query = query.where(User.email == as_email.strip().lower())
    admin = db_session().scalar(query.order_by(User.id).limit(1))
    if admin is None:
        raise click.ClickException(f"No active admin {as_email}." if as_email else "There is no active admin.")
    return admin


@group.command("export")
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-",
              help="Where to write the JSON (default: standard output).")
@AS_OPTION
def export(output, as_email: str | None) -> None:
    """Write every rule, in order, as a JSON list."""
    data = manage.export_rules(db_session(), actor=_admin(as_email))
    json.dump(data, output, ensure_ascii=False, indent=2)
    output.write("\n")


@group.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--replace", is_flag=True, help="Delete the existing rules first (default: add after them).")
@AS_OPTION
def import_(file, replace: bool, as_email: str | None) -> None:
    """Read rules from a JSON file made by `rules export`. Every rule is checked first: one mistake and
    nothing changes."""
    try:
        data = json.load(file)
    except ValueError as exc:
        raise click.ClickException(f"The file is not JSON: {exc}") from None
    session = db_session()
    try:
        imported = manage.import_rules(session, data, mode="replace" if replace else "add",
                                       actor=_admin(as_email), now=utcnow())
    except Invalid as exc:
        session.rollback()
        problems = exc.details.get("errors") or {}
        lines = [f"  {key}: {problem.text()}" for key, problem in problems.items()]
        raise click.ClickException("Nothing was imported:\n" + "\n".join(lines)) from None
    session.commit()
    click.echo(f"Imported {len(imported)} rule(s){' (the earlier ones were replaced)' if replace else ''}.")


@group.command("run-automations")
@click.option("--now", "now_text", metavar="ISO", help="Act as if it were this time (UTC), e.g. 2026-12-01T08:00.")
@click.option("--no-mail", is_flag=True, help="Only queue the e-mails; `mail flush` sends them.")
def run_automations(now_text: str | None, no_mail: bool) -> None:
    """Run every enabled automation over the tickets it matches (hourly from cron). Safe to run on several
    hosts at once: a ticket is acted on once per run."""
    run_and_report(now_text, no_mail)


def run_and_report(now_text: str | None, no_mail: bool) -> None:
    """Run the automations, say what each did, send the e-mails they queued (unless `no_mail`)."""
    from portal.cli.tickets import parse_now
    from portal.worker.jobs import run_automations

    done = run_automations(now=parse_now(now_text), send_mail=not no_mail)
    woken, report = done.woken, done.report
    if woken.woken:
        click.echo(f"Back from postponement: {len(woken.woken)} ticket(s): {', '.join(woken.woken[:20])}"
                   f"{' …' if len(woken.woken) > 20 else ''}")
    for name, refs in report.fired.items():
        click.echo(f"{name}: {len(refs)} ticket(s): {', '.join(refs[:20])}{' …' if len(refs) > 20 else ''}")
    click.echo(f"Automations acted on {report.total} ticket(s) out of {report.checked} candidate(s).")
    if done.mail is not None:
        sent = done.mail
        click.echo(f"E-mails: {len(sent.sent)} sent, {len(sent.failed)} failed"
                   f"{' (mail server down: `mail flush` will retry)' if sent.server_down else ''}.")
    if done.errors:
        raise click.ClickException(f"Failed on ticket ids {', '.join(done.errors)}; see the log.")
