"""The schema only changes through Alembic, and the migrations match the models."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from portal import create_app
from portal.cli.db import alembic_config
from portal.db import Base


def _fresh_app(tmp_path, database_url: str | None = None):
    config = {"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance")}
    if database_url:
        config["DATABASE_URL"] = database_url
    return create_app(config)


def test_upgrade_empty_database_to_head_creates_every_table(tmp_path):
    app = _fresh_app(tmp_path)
    command.upgrade(alembic_config(app), "head")
    tables = set(inspect(app.extensions["engine"]).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables
    app.extensions["engine"].dispose()


def test_models_and_migrations_agree(app):
    """`alembic check` on the suite's database (PostgreSQL when TEST_DATABASE_URL names it)."""
    command.check(alembic_config(app))


def test_downgrade_to_base_and_up_again(tmp_path):
    app = _fresh_app(tmp_path)
    cfg = alembic_config(app)
    command.upgrade(cfg, "head")
    command.downgrade(cfg, "base")
    assert set(inspect(app.extensions["engine"]).get_table_names()) <= {"alembic_version"}
    command.upgrade(cfg, "head")
    assert "tickets" in inspect(app.extensions["engine"]).get_table_names()
    app.extensions["engine"].dispose()


def test_suite_database_was_built_by_the_migrations(db):
    """The database every other test uses came from `alembic upgrade head`, not from create_all."""
    tables = set(inspect(db.get_bind()).get_table_names())
    assert "alembic_version" in tables
