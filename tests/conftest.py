"""Fixtures shared by every test: an app on its own database and instance folder, a client, people."""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from portal import create_app
from tests.factories import DEFAULT_PASSWORD, Factory

REPO = Path(__file__).resolve().parent.parent
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")


def _postgres_url(base: str, schema: str) -> str:
    base = base.replace("postgresql://", "postgresql+psycopg://", 1)
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory) -> Iterator[str]:
    """The schema, built once per run through the real Alembic migrations."""
    from portal.cli.db import upgrade_to_head

    if TEST_DATABASE_URL:
        schema = f"mesa_test_{uuid.uuid4().hex[:10]}"
        admin = create_engine(TEST_DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1))
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = _postgres_url(TEST_DATABASE_URL, schema)
        migrating = create_app({"TESTING": True, "DATABASE_URL": url,
                                "INSTANCE_PATH": str(tmp_path_factory.mktemp("migrate"))})
        upgrade_to_head(migrating)
        migrating.extensions["engine"].dispose()
        yield url
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    else:
        folder = tmp_path_factory.mktemp("template-db")
        url = f"sqlite:///{folder / 'template.db'}"
        app = create_app({"TESTING": True, "DATABASE_URL": url, "INSTANCE_PATH": str(folder)})
        upgrade_to_head(app)
        _without_rules(app.extensions["engine"])
        app.extensions["engine"].dispose()
        yield str(folder / "template.db")


def _without_rules(engine) -> None:
    """Every test starts with no rules, as on PostgreSQL (where each test empties the tables): the default
    automations the migrations install are left to the tests about them (services.rules.defaults)."""
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM rule_changes"))
        conn.execute(text("DELETE FROM rules"))


@pytest.fixture
def database_url(migrated_database, tmp_path) -> Iterator[str]:
    """A clean database for each test: a copy of the template (SQLite) or truncated tables (PostgreSQL)."""
    if TEST_DATABASE_URL:
        engine = create_engine(migrated_database)
        with engine.begin() as conn:
            tables = [row[0] for row in conn.execute(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename <> 'alembic_version'"))]
            if tables:
                conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        engine.dispose()
        yield migrated_database
    else:
        target = tmp_path / "portal.db"
        shutil.copyfile(migrated_database, target)
        yield f"sqlite:///{target}"


@pytest.fixture
def app_config() -> dict:
    """Override in a module or conftest to change settings for its tests."""
    return {}


@pytest.fixture
def app(database_url, tmp_path, app_config):
    instance = tmp_path / "instance"
    config = {
        "TESTING": True,
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "BASE_URL": "http://portal.test",
        "RATELIMIT_STORAGE_URI": "memory://",
        "WTF_CSRF_ENABLED": False,
        "KB_INDEX_DIR": str(tmp_path / "kb_index"),
        **app_config,
    }
    application = create_app(config)
    yield application
    application.extensions["engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def csrf_client(app):
    """A client whose forms must carry a real CSRF token, as in production."""
    app.config["WTF_CSRF_ENABLED"] = True
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def db(app):
    """The same kind of session the views use, for arranging and checking data.

    No app context stays pushed during the test: each request of the test client then gets its own app
    context, so `g` (the request's session, Flask-Login's user, Flask-Babel's locale) never leaks from one
    request, or one client, to the next. Use `with app.app_context():` where a test needs one.
    Reload what a request changed with `db.refresh(obj)` (or `db.expire_all()`)."""
    session = app.extensions["sessionmaker"]()
    yield session
    session.close()


@pytest.fixture
def make(db) -> Factory:
    return Factory(db)


@pytest.fixture
def alice(make):
    return make.user(email="alice@example.com", name="Alice Customer")


@pytest.fixture
def bob(make):
    return make.user(email="bob@example.com", name="Bob Customer")


@pytest.fixture
def agnes(make):
    return make.user(email="agnes@example.com", name="Agnes Agent", role="agent")


@pytest.fixture
def admin_user(make):
    return make.user(email="admin@example.com", name="Ada Admin", role="admin")


def login(client, user, password: str = DEFAULT_PASSWORD):
    """Log in through the real form, as a person would."""
    response = client.post("/login", data={"email": user.email, "password": password})
    assert response.status_code == 303, response.text
    return response


# ---- A real SMTP server for tests that send mail (aiosmtpd on 127.0.0.1, a free port) ----


class _CollectingHandler:
    """Keeps every message the server accepts, parsed, in arrival order."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook
        from email import message_from_bytes
        from email.policy import default as default_policy

        message = message_from_bytes(envelope.content, policy=default_policy)
        message.envelope_from = envelope.mail_from
        message.envelope_to = list(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self, host: str, port: int, handler: _CollectingHandler) -> None:
        self.host, self.port, self.handler = host, port, handler

    @property
    def messages(self) -> list:
        """`email.message.EmailMessage` objects, with `.envelope_from` and `.envelope_to` added."""
        return self.handler.messages

    @property
    def config(self) -> dict:
        """Settings that send the app's mail here: `app_config` can return (or merge) them."""
        return {"SMTP_HOST": self.host, "SMTP_PORT": self.port, "SMTP_STARTTLS": False}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server. Point the app at it with `smtp_config`, e.g. in a test module:

        @pytest.fixture
        def app_config(smtp_config):
            return smtp_config
    """
    from aiosmtpd.controller import Controller

    handler = _CollectingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield SmtpServer(controller.hostname, controller.port, handler)
    controller.stop()


@pytest.fixture
def smtp_config(smtp_server) -> dict:
    return smtp_server.config
