"""Database schema commands, through Alembic migrations only."""

from __future__ import annotations

from pathlib import Path

import click
from alembic import command
from alembic.config import Config
from flask import current_app
from flask.cli import AppGroup

group = AppGroup("db", help="Database schema (Alembic migrations).")

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"


def alembic_config(app=None) -> Config:
    cfg = Config(str(ALEMBIC_INI))
    cfg.set_main_option("script_location", str(ALEMBIC_INI.parent / "migrations"))
    cfg.attributes["app"] = app or current_app._get_current_object()
    return cfg


def upgrade_to_head(app=None) -> None:
    command.upgrade(alembic_config(app), "head")


@group.command("upgrade")
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    command.upgrade(alembic_config(), revision)
    click.echo(f"Database at {revision}.")


@group.command("downgrade")
@click.argument("revision")
def downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (e.g. -1 or base)."""
    command.downgrade(alembic_config(), revision)


@group.command("current")
def current() -> None:
    """Show the applied revision."""
    command.current(alembic_config())


@group.command("check")
def check() -> None:
    """Fail when the models and the migrations disagree."""
    command.check(alembic_config())
