"""Alembic environment: the URL and the engine come from the app's configuration."""

from alembic import context

import portal.models  # noqa: F401  registers every table on Base.metadata
from portal.db import Base

config = context.config
target_metadata = Base.metadata


def _app():
    """Tests and the CLI pass their app; `alembic` on the command line builds one."""
    app = config.attributes.get("app")
    if app is None:
        from portal import create_app

        app = create_app()
        config.attributes["app"] = app  # the migrations that read a setting find it there
    return app


def run_migrations_offline() -> None:
    url = _app().config["DATABASE_URL"]
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True,
                      dialect_opts={"paramstyle": "named"}, render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = _app().extensions["engine"]
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
