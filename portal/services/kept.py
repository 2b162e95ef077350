"""Values kept per process for a few seconds: read once, shared by every request of the process.

Each value is read by the caller's `read()` on a miss and kept for `max_age`. A commit of this process that
changes an instance of the watched classes drops them all at once; another process's change shows within
`max_age`. The queue counts, the desk's short lists and the agents' unread counts are kept this way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Generic, TypeVar

from portal.services.commit_hooks import after_commits_changing

if TYPE_CHECKING:
    from sqlalchemy.orm import sessionmaker

Value = TypeVar("Value")


class Kept(Generic[Value]):
    def __init__(self, max_age: timedelta, watched: tuple[type, ...]) -> None:
        self.max_age = max_age
        self.watched = watched
        self._lock = threading.Lock()
        self._generation = 0
        self._entries: dict[Hashable, tuple[int, datetime, Value]] = {}

    def watch(self, factory: sessionmaker) -> None:
        """Forget everything when a session of `factory` commits a change to a watched class (bulk UPDATEs
        too)."""
        after_commits_changing(factory, self.watched, self.forget)

    def get(self, key: Hashable, read: Callable[[], Value], *, now: datetime) -> Value:
        with self._lock:
            generation, kept = self._generation, self._entries.get(key)
        if kept and kept[0] == generation and timedelta(0) <= now - kept[1] < self.max_age:
            return kept[2]
        value = read()
        with self._lock:
            if self._generation == generation:  # a commit while reading leaves nothing stale behind
                self._entries[key] = (generation, now, value)
        return value

    def forget(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()
