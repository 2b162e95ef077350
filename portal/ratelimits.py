"""Rate-limit counters in an SQLite file, shared by every process of one host: a storage for `limits`.

Flask-Limiter keeps its counters through the `limits` library, whose storages are process memory, Redis,
Memcached, MongoDB and etcd. Memory is counted per gunicorn worker, so "10 per minute" meant 10 per worker;
the others need a service Mesa does not otherwise need. `limits` has no file storage (its maintainers left it
to others, limits#54, flask-limiter#266) and no maintained package adds one, so this module does, in the SQLite
that Python ships. It serves Flask-Limiter's default strategy, the fixed window:

- one row per key: (key, count, expires_at); `incr` is one UPSERT statement, so two processes adding at once
  never lose a count, and a window that has expired starts again at the amount added;
- WAL journal (readers never wait for the writer) and a busy timeout: a process waits its turn to write
  instead of failing; `synchronous=NORMAL`, since a counter lost to a power cut only forgives a few attempts;
- expired rows are deleted by each process at most once a minute, so the file stays the size of the keys
  of the current windows;
- a connection per thread, opened again after a fork (a connection must never cross one).

SQLite's locks work between the processes of one host, not over a network file system: with several hosts,
use Redis (`redis://`), which `limits` supports.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
import urllib.parse
from pathlib import Path

from limits.errors import ConfigurationError
from limits.storage import Storage

SCHEME = "mesa-sqlite"
BUSY_TIMEOUT_SECONDS = 5.0
PURGE_EVERY_SECONDS = 60.0
LONGEST_KEY = 200  # a longer key (made from what a visitor typed) is stored as its SHA-256

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rate_limits (
    key TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    expires_at REAL NOT NULL
) WITHOUT ROWID
"""

# All the SET expressions read the row as it was, so both see the old expires_at.
_INCREMENT = """
INSERT INTO rate_limits (key, count, expires_at) VALUES (:key, :amount, :now + :expiry)
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN expires_at <= :now THEN :amount ELSE count + :amount END,
    expires_at = CASE WHEN expires_at <= :now THEN :now + :expiry ELSE expires_at END
RETURNING count
"""


def uri_for(path: Path | str) -> str:
    """The storage URI of an SQLite file (made absolute; any character of the path is quoted)."""
    return f"{SCHEME}://{urllib.parse.quote(str(Path(path).resolve()))}"


def stored_key(key: str) -> str:
    if len(key) <= LONGEST_KEY:
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class SQLiteStorage(Storage):
    """`mesa-sqlite:///absolute/path/ratelimits.db`: fixed-window counters in that file, created on first use."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: float | str | bool):
        parsed = urllib.parse.urlparse(uri or "")
        path = urllib.parse.unquote(parsed.netloc + parsed.path)
        if parsed.scheme != SCHEME or not path or not Path(path).is_absolute():
            raise ConfigurationError(f"{SCHEME}:// needs an absolute file path: {uri!r}")
        if sqlite3.sqlite_version_info < (3, 35):  # UPSERT ... RETURNING
            raise ConfigurationError(f"{SCHEME}:// needs SQLite 3.35 or later, not {sqlite3.sqlite_version}")
        self.path = Path(path)
        self.busy_timeout = float(options.get("busy_timeout", BUSY_TIMEOUT_SECONDS))
        self._local = threading.local()
        self._purged_at = 0.0
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection, opened again in a forked child (the parent's must not be used there)."""
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.connection = None
            local.pid = os.getpid()
        if local.connection is None:
            connection = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
            try:
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA synchronous=NORMAL")
                connection.execute(_SCHEMA)
            except BaseException:
                connection.close()
                raise
            local.connection = connection
        return local.connection

    def _execute(self, sql: str, parameters: dict | tuple = ()) -> list[tuple]:
        try:
            # fetchall: a statement with RETURNING holds its write lock until it has been read to the end
            return self._connection().execute(sql, parameters).fetchall()
        except sqlite3.Error:
            self._drop_connection()  # the next call starts afresh (the file may have been replaced)
            raise

    def _drop_connection(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None and getattr(self._local, "pid", None) == os.getpid():
            connection.close()

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        self._purge_expired(now)
        rows = self._execute(_INCREMENT, {"key": stored_key(key), "amount": amount, "now": now,
                                          "expiry": float(expiry)})
        return int(rows[0][0])

    def get(self, key: str) -> int:
        rows = self._execute("SELECT count FROM rate_limits WHERE key = ? AND expires_at > ?",
                             (stored_key(key), time.time()))
        return int(rows[0][0]) if rows else 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        rows = self._execute("SELECT expires_at FROM rate_limits WHERE key = ? AND expires_at > ?",
                             (stored_key(key), now))
        return float(rows[0][0]) if rows else now

    def check(self) -> bool:
        """Whether the file can be read and written (Flask-Limiter asks before leaving its fallback)."""
        try:
            self._execute("BEGIN IMMEDIATE")
            self._execute("ROLLBACK")
            return True
        except Exception:  # any failure means "not healthy", never an error of its own
            return False

    def reset(self) -> int | None:
        """Forget every counter; the number of keys forgotten."""
        return len(self._execute("DELETE FROM rate_limits RETURNING key"))

    def clear(self, key: str) -> None:
        self._execute("DELETE FROM rate_limits WHERE key = ?", (stored_key(key),))

    def _purge_expired(self, now: float) -> None:
        if now - self._purged_at < PURGE_EVERY_SECONDS:
            return
        self._purged_at = now
        self._execute("DELETE FROM rate_limits WHERE expires_at <= ?", (now,))
