"""The SQLite storage of rate-limit counters (`portal/ratelimits.py`): the fixed-window contract `limits` expects,
one count per hit however many processes add at once, and what happens when the file cannot be used."""

from __future__ import annotations

import multiprocessing
import time

import pytest
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from portal import create_app
from portal.extensions import limiter
from portal.ratelimits import LONGEST_KEY, SQLiteStorage, uri_for


@pytest.fixture
def storage(tmp_path) -> SQLiteStorage:
    return storage_from_string(uri_for(tmp_path / "ratelimits.db"))


def test_the_scheme_is_registered_with_limits_and_takes_any_absolute_path(tmp_path):
    path = tmp_path / "a folder with spaces & 100%" / "ratelimits.db"
    path.parent.mkdir()
    storage = storage_from_string(uri_for(path))
    assert isinstance(storage, SQLiteStorage) and storage.path == path
    assert storage.incr("k", 60) == 1 and path.exists()
    with pytest.raises(Exception, match="absolute file path"):
        storage_from_string("mesa-sqlite://relative.db")


def test_counts_within_a_window_and_starts_again_after_it(storage):
    assert storage.get("k") == 0
    assert [storage.incr("k", 1) for _ in range(3)] == [1, 2, 3]
    assert storage.incr("k", 1, amount=5) == 8
    assert storage.get("k") == 8
    assert time.time() < storage.get_expiry("k") <= time.time() + 1
    time.sleep(1.05)
    assert storage.get("k") == 0
    assert storage.incr("k", 60, amount=2) == 2  # a new window, with the new window's length
    assert storage.get_expiry("k") > time.time() + 58


def test_clear_and_reset_forget_counters(storage):
    storage.incr("a", 60)
    storage.incr("b", 60)
    storage.clear("a")
    assert (storage.get("a"), storage.get("b")) == (0, 1)
    assert storage.reset() == 1
    assert storage.get("b") == 0


def test_a_huge_key_is_kept_as_its_digest(storage):
    typed = "account:" + "x" * 500_000
    assert storage.incr(typed, 60) == 1 and storage.incr(typed, 60) == 2
    assert storage.get(typed) == 2 and storage.get("account:" + "x" * 499_999) == 0
    (longest,) = storage._execute("SELECT max(length(key)) FROM rate_limits")[0]
    assert longest <= LONGEST_KEY


def test_the_limits_fixed_window_strategy_holds_on_it(storage):
    limiter, ten = FixedWindowRateLimiter(storage), parse("10/minute")
    assert [limiter.hit(ten, "login", "203.0.113.7") for _ in range(12)] == [True] * 10 + [False] * 2
    assert limiter.hit(ten, "login", "198.51.100.9")
    assert limiter.get_window_stats(ten, "login", "203.0.113.7").remaining == 0


def _hit_many(uri: str, times: int, results) -> None:
    storage = storage_from_string(uri)
    results.put([storage.incr("shared", 60) for _ in range(times)])


def test_processes_adding_at_once_never_lose_or_share_a_count(storage):
    """Four processes forked from one that had already used the file (its connection must not cross the fork)
    add 150 each: every count from 1 to 600 is handed out exactly once."""
    storage.incr("warm-up", 60)
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    workers = [context.Process(target=_hit_many, args=(uri_for(storage.path), 150, results)) for _ in range(4)]
    for worker in workers:
        worker.start()
    counts = [count for _ in workers for count in results.get(timeout=60)]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    assert sorted(counts) == list(range(1, 601))
    assert storage.get("shared") == 600


def test_a_file_that_cannot_be_opened_is_an_error_and_unhealthy_never_a_silent_zero(tmp_path):
    (tmp_path / "ratelimits.db").mkdir()  # a folder where the file should be
    storage = storage_from_string(uri_for(tmp_path / "ratelimits.db"))
    assert storage.check() is False
    with pytest.raises(Exception, match="unable to open"):
        storage.incr("k", 60)
    (tmp_path / "ratelimits.db").rmdir()
    assert storage.check() is True and storage.incr("k", 60) == 1  # it recovers once the file can be made


def test_served_apps_default_to_the_shared_file_in_the_instance_folder(tmp_path, monkeypatch):
    """No PORTAL_RATELIMIT_STORAGE_URI: the counters are in the instance folder, not in each process."""
    monkeypatch.delenv("PORTAL_RATELIMIT_STORAGE_URI", raising=False)
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    try:
        assert app.config["RATELIMIT_STORAGE_URI"] == uri_for(tmp_path / "ratelimits.db")
        assert isinstance(limiter.storage, SQLiteStorage) and limiter.storage.path == tmp_path / "ratelimits.db"
        assert (tmp_path / "ratelimits.db").exists()  # made (and checked) at start
    finally:
        app.extensions["engine"].dispose()
    monkeypatch.setenv("PORTAL_RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379"
    app.extensions["engine"].dispose()
