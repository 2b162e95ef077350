"""The shape of a demo ticket: who asked what, and each turn of the conversation that followed.

A story states only what a person would tell: the turns and the changes each turn made. `tickets.py`
replays the turns to get the ticket's final state, its timestamps and its audit trail, so the data
cannot disagree with itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from portal.demo.people import BILLING, SPANISH_DESK, TIER_1, TIER_2, TIER_3

__all__ = ["BILLING", "SPANISH_DESK", "TIER_1", "TIER_2", "TIER_3", "Story", "Turn", "change", "note", "say"]

# People, by the e-mail the stories name them with.
ALICE, BOB, LUCIA = "alice@example.com", "bob@example.com", "lucia@example.com"
JAVIER, MARTA, CARMEN = "javier@example.com", "marta@example.com", "carmen@example.com"
PRIYA, GRETA = "priya@example.com", "greta@example.com"
AGNES, DIEGO, TOMAS = "agnes@example.com", "diego@example.com", "tomas@example.com"
AGENTS = frozenset({AGNES, DIEGO, TOMAS, "admin@example.com"})


@dataclass(frozen=True)
class Turn:
    """Something that happened `at` hours after the ticket was created.

    `author` is an e-mail, or None for the system (e.g. closing a solved ticket after a while). `body`
    None means a change without a message. `changes` may set status, assignee (an e-mail), group (a
    name) and priority.
    """

    author: str | None
    at: float
    body: str | None = None
    public: bool = True
    changes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Story:
    key: str
    subject: str
    requester: str
    language: str
    channel: str
    priority: str
    age_days: float
    turns: tuple[Turn, ...]
    group: str | None = TIER_1
    tags: tuple[str, ...] = ()
    follow_up_of: str | None = None


def say(author: str, at: float, body: str, **changes: str) -> Turn:
    """A public message, seen by the customer."""
    return Turn(author, at, body, True, changes)


def note(author: str, at: float, body: str, **changes: str) -> Turn:
    """A private note, seen only by agents."""
    return Turn(author, at, body, False, changes)


def change(author: str | None, at: float, **changes: str) -> Turn:
    """A change without a message."""
    return Turn(author, at, None, True, changes)
