"""Managing accounts from the command line."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from portal.clock import utcnow
from portal.errors import Invalid
from portal.extensions import db_session
from portal.models import ROLES
from portal.services import accounts

group = AppGroup("users", help="Accounts.")


@group.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(ROLES), default="customer", show_default=True)
@click.option("--locale", type=click.Choice(["en", "es"]), default=None)
@click.password_option(help="Prompted for when not given.")
def create(email: str, name: str, role: str, locale: str | None, password: str) -> None:
    """Create an account (agents and admins are created this way or by an admin in the UI)."""
    try:
        user = accounts.create_user(
            db_session(), email=email, name=name, password=password, role=role, locale=locale, now=utcnow()
        )
    except Invalid as exc:
        raise click.ClickException(exc.message % exc.details if exc.details else exc.message) from exc
    db_session().commit()
    click.echo(f"Created {user.role} {user.email}.")
