"""The login limits on the storage a served portal really uses (the SQLite file in the instance folder), and
what a visitor gets when that storage cannot be used: limits per process, never a 500, never no limit at all.
That they hold across processes and hosts is shown on real gunicorn servers in tests/load/test_rate_limits.py."""

from __future__ import annotations

import logging
import socket
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from portal.extensions import limiter
from portal.ratelimits import SQLiteStorage
from tests.factories import DEFAULT_PASSWORD
from tests.security.conftest import person

WRONG_PASSWORD = "wrong-password-1"


def guess(client, email: str, password: str = WRONG_PASSWORD, ip: str = "203.0.113.7"):
    return client.post("/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": ip})


class TestTheDefaultStorage:
    @pytest.fixture
    def app_config(self, app_config):
        # None: what a served portal gets without PORTAL_RATELIMIT_STORAGE_URI (tests otherwise use memory://)
        return {**app_config, "RATELIMIT_STORAGE_URI": None, "LOGIN_RATE_LIMIT": "3 per minute"}

    def test_guesses_are_counted_in_the_instance_folders_file(self, app, db):
        alice = person(db, "alice@example.com", "Alice")
        assert isinstance(limiter.storage, SQLiteStorage)
        client = app.test_client()
        assert [guess(client, alice.email).status_code for _ in range(3)] == [422] * 3
        refused = guess(client, alice.email, DEFAULT_PASSWORD)
        assert refused.status_code == 429 and "Retry-After" in refused.headers
        path = limiter.storage.path
        assert path == Path(app.config["INSTANCE_PATH"]) / "ratelimits.db"
        with sqlite3.connect(path) as file:
            keys = [key for (key,) in file.execute("SELECT key FROM rate_limits WHERE count >= 3")]
        assert any("203.0.113.7" in key for key in keys) and any("alice@example.com" in key for key in keys)


class TestAStorageThatDoesNotAnswer:
    """The pick: fall back to counting in each process's memory until the storage answers again. Refusing every
    login (failing closed) would let a full disk or a Redis restart lock every customer and agent out; letting
    every guess through (failing open) would turn the same outage into unlimited password guessing. Per process,
    the limit is at most the limit times the workers, as before the shared storage, and the log says so."""

    @pytest.fixture
    def app_config(self, app_config, tmp_path):
        (tmp_path / "blocked.db").mkdir()  # a folder where the file should be: SQLite cannot open it
        return {**app_config, "RATELIMIT_STORAGE_URI": f"mesa-sqlite://{tmp_path / 'blocked.db'}",
                "LOGIN_RATE_LIMIT": "3 per minute"}

    @pytest.fixture(autouse=True)
    def _storage_back_for_the_next_test(self):
        yield
        limiter._storage_dead = False  # the limiter is one object for every app of the test run

    def test_logins_still_work_and_guesses_are_still_limited(self, app, db, caplog):
        alice = person(db, "alice@example.com", "Alice")
        caplog.set_level(logging.WARNING)
        assert guess(app.test_client(), alice.email, DEFAULT_PASSWORD, ip="198.51.100.9").status_code == 303
        client = app.test_client()
        assert [guess(client, alice.email).status_code for _ in range(2)] == [422] * 2
        refused = guess(client, alice.email, DEFAULT_PASSWORD)
        assert refused.status_code == 429 and "Too many requests" in refused.text
        assert "Rate limit storage unreachable" in caplog.text


class TestAStorageThatHangs:
    """A Redis host that takes the connection and never answers (gone from the network mid-way, a frozen
    process): logins must not wait for the system's TCP timeout, minutes, with every worker held."""

    @pytest.fixture
    def silent_redis(self):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)  # the kernel completes the handshakes; nobody ever reads or answers
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}"
        listener.close()

    @pytest.fixture
    def app_config(self, app_config, silent_redis):
        return {**app_config, "RATELIMIT_STORAGE_URI": silent_redis, "LOGIN_RATE_LIMIT": "3 per minute"}

    @pytest.fixture(autouse=True)
    def _storage_back_for_the_next_test(self):
        yield
        limiter._storage_dead = False

    def test_a_login_is_answered_within_seconds(self, app, db):
        alice = person(db, "alice@example.com", "Alice")
        answers: list[int] = []
        attempt = threading.Thread(daemon=True, target=lambda: answers.extend(
            guess(app.test_client(), alice.email, password).status_code
            for password in (DEFAULT_PASSWORD, WRONG_PASSWORD, WRONG_PASSWORD, WRONG_PASSWORD)))
        started = time.monotonic()
        attempt.start()
        attempt.join(timeout=30)
        assert answers == [303, 422, 422, 429], f"after {time.monotonic() - started:.0f} s"
