"""Demo data for Alto Fibra, a small fibre and mobile provider in Spain, and a synthetic generator for benchmarks.

`load_demo` is run by `make run` on every start: it only adds what is missing (accounts by e-mail, groups
by name, tickets by their fixed reference) and never changes or deletes anything that is there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from portal.demo.macros import ensure_macros
from portal.demo.operations import ensure_operations
from portal.demo.people import DEMO_PASSWORD, ensure_groups, ensure_people
from portal.demo.reading import ensure_reading
from portal.demo.tickets import ensure_tickets

__all__ = ["DEMO_PASSWORD", "LoadResult", "load_demo"]


@dataclass(frozen=True)
class LoadResult:
    groups: int
    users: int
    tickets: int

    @property
    def nothing_added(self) -> bool:
        return not (self.groups or self.users or self.tickets)


def load_demo(session: Session, *, now: datetime) -> LoadResult:
    """Add whatever part of the demo is missing; says how many groups, accounts and tickets it added."""
    groups, new_groups = ensure_groups(session, now=now)
    users, new_users = ensure_people(session, groups, new_groups, now=now)
    tickets = ensure_tickets(session, users, groups, now=now)
    ensure_operations(session, now=now)  # SLA policies, a business calendar, categories
    if new_groups:  # the first load: later ones keep what admins did with the demo's macros
        session.flush()
        ensure_macros(session, now=now)
    ensure_reading(session, now=now)  # the help center's "Popular articles"
    session.flush()
    return LoadResult(groups=len(new_groups), users=len(new_users), tickets=len(tickets))
