"""Queue counts shared for a few seconds.

A view's count is one indexed COUNT, but "All open" at a million tickets walks a few hundred thousand index
entries (tens of milliseconds), and every agent's queue page and 30-second refresh asks for it. Counts change
only when tickets do, and the sidebar refreshes every 30 s anyway, so each view's count is kept for `max_age`
and shared by everyone who sees that view ("Mine" is per agent). A ticket change committed in this process
drops the kept counts at once; other processes see it within `max_age`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from portal.models import Ticket, User
from portal.services import agent_queue
from portal.services.kept import Kept

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


class CountsCache(Kept[int]):
    def __init__(self, max_age: timedelta) -> None:
        super().__init__(max_age, (Ticket,))  # bulk UPDATEs too: the guided "next ticket" assigns with one

    def counts(self, session: Session, agent: User, *, now: datetime,
               views: list[agent_queue.View] | None = None) -> dict[str, int]:
        def count(view: agent_queue.View) -> int:
            return session.scalar(select(func.count()).select_from(Ticket).where(
                *agent_queue.view_conditions(view.key, agent, now=now))) or 0

        return {view.key: self.get((view.key, agent.id if view.key == "mine" else None),
                                   lambda view=view: count(view), now=now)
                for view in views or agent_queue.views_for(agent) if view.counted}
