"""Learning from use: what earlier customers opened and found helpful after a search feeds its ranking.

`learned_boosts(session, query)` → {article path: 0..1}, passed to `KbIndex.search(boosts=...)`.
(Skeleton: filled in by the learning-from-use work of issue 17.)
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session


def learned_boosts(session: Session, query: str, *, now: datetime | None = None) -> dict[str, float]:
    return {}
