"""Deflection: a customer about to file a ticket found the answer in the knowledge base instead."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.errors import N_, Invalid
from portal.models import Category, Deflection, User

MAX_QUERY = 500
MAX_PATH = 255


def record(
    session: Session, *, query: str, article_path: str, category: Category | None = None, actor: User | None,
    now: datetime,
) -> Deflection:
    """Remember which article answered which question, for whom and when: the ticket that was not filed."""
    path = (article_path or "").strip()
    if not path or len(path) > MAX_PATH or ".." in path.split("/") or path.startswith("/"):
        raise Invalid(N_("That article does not exist."), field="article")
    deflection = Deflection(
        query=" ".join((query or "").split())[:MAX_QUERY], article_path=path,
        category_id=category.id if category else None, user_id=actor.id if actor else None, created_at=now,
    )
    session.add(deflection)
    return deflection


def count_by_article(session: Session, *, since: datetime | None = None) -> dict[str, int]:
    """How many tickets each article saved (for reports)."""
    query = select(Deflection.article_path, func.count()).group_by(Deflection.article_path)
    if since is not None:
        query = query.where(Deflection.created_at >= since)
    return {path: count for path, count in session.execute(query)}
