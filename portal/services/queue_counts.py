"""Queue counts shared for a few seconds.

A view's count is one indexed COUNT, but "All open" at a million tickets walks a few hundred thousand index
entries (tens of milliseconds), and every agent's queue page and 30-second refresh asks for it. Counts change
only when tickets do, and the sidebar refreshes every 30 s anyway, so each view's count is kept for `max_age`
and shared by everyone who sees that view ("Mine" is per agent). A ticket change committed in this process
drops the kept counts at once; other processes see it within `max_age`.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from portal.models import Ticket, User
from portal.services import agent_queue
from portal.services.commit_hooks import after_commits_changing

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

class CountsCache:
    def __init__(self, max_age: timedelta) -> None:
        self.max_age = max_age
        self._lock = threading.Lock()
        self._generation = 0
        self._entries: dict[tuple[str, int | None], tuple[int, datetime, int]] = {}

    def watch(self, factory: sessionmaker) -> None:
        """Forget the counts when a session of `factory` commits a change to tickets (bulk UPDATEs too: the
        guided "next ticket" assigns with one)."""
        after_commits_changing(factory, (Ticket,), self.forget)

    def counts(self, session: Session, agent: User, *, now: datetime,
               views: list[agent_queue.View] | None = None) -> dict[str, int]:
        result = {}
        for view in (v for v in views or agent_queue.views_for(agent) if v.counted):
            key = (view.key, agent.id if view.key == "mine" else None)
            with self._lock:
                generation, kept = self._generation, self._entries.get(key)
            if kept and kept[0] == generation and now - kept[1] < self.max_age:
                result[view.key] = kept[2]
                continue
            query = select(func.count()).select_from(Ticket).where(
                *agent_queue.view_conditions(view.key, agent, now=now))
            result[view.key] = session.scalar(query) or 0
            with self._lock:
                self._entries[key] = (generation, now, result[view.key])
        return result

    def forget(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()
