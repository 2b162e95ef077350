"""Business rules without the web: `flask --app app rules export` and `rules import FILE [--replace]`."""

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

group = AppGroup("rules", help="Business rules: export and import them as JSON.")

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
