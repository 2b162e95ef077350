"""Knowledge-base rules: who may read which article, and the analytics kept from day one.

Every search (query, language, result count, the result opened), every article view and every vote is
stored, with an anonymous visitor id or the user's id and the time; nothing else personal.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Select, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from portal.articles import AGENT_STATUSES, PUBLIC_STATUSES, Article, load_article
from portal.errors import N_, Invalid, NotFound
from portal.models import ArticleView, ArticleVote, SearchLog, User
from portal.models.kb import PATH_LENGTH, QUERY_LENGTH
from portal.search.text_query import fold

# Keystrokes of one live search arrive within seconds; refinements of the same search update one row.
TYPING_WINDOW = timedelta(seconds=15)
MAX_COMMENT = 1000


def visible_statuses(actor: User | None) -> tuple[str, ...]:
    """Customers see published articles; agents also see internal ones. Drafts and archived: nobody."""
    return AGENT_STATUSES if actor is not None and getattr(actor, "is_agent", False) else PUBLIC_STATUSES


def get_article(kb_dir: Path, path: str, *, actor: User | None, default_lang: str) -> Article:
    """The article at `path`, or NotFound — the same answer for missing, hidden and unsafe paths. Exactly what the
    index holds: `load_article` reads only the files the index's walk keeps (`articles.article_file`), and the
    status comes from the same front matter."""
    article = load_article(kb_dir, path, default_lang)
    if article is None or article.status not in visible_statuses(actor):
        raise NotFound(N_("We could not find that article."))
    return article


def normalize_query(query: str) -> str:
    """Lowercase, no accents, single spaces: how reports group the same question asked differently."""
    return " ".join(fold(query).split())[:QUERY_LENGTH]


def _who(actor: User | None, visitor_id: str | None) -> dict[str, object]:
    if actor is not None:
        return {"user_id": actor.id, "visitor_id": None}
    return {"user_id": None, "visitor_id": visitor_id}


def log_search(session: Session, *, query: str, lang: str, result_count: int, actor: User | None,
               visitor_id: str | None, now: datetime, source: str = "web") -> int:
    """Record a search; returns its row's id. While a visitor types, each refinement of the query updates the
    same row."""
    query = " ".join(query.split())[:QUERY_LENGTH]
    who = _who(actor, visitor_id)
    latest = None
    if who["user_id"] is not None or who["visitor_id"]:
        by_user = who["user_id"] is not None
        latest = session.execute(_LATEST_BY_USER if by_user else _LATEST_BY_VISITOR,
                                 {"who": who["user_id"] if by_user else who["visitor_id"],
                                  "since": now - TYPING_WINDOW, "source": source}).first()
    values = {"query": query, "normalized_query": normalize_query(query), "lang": lang, "result_count": result_count,
              "updated_at": now}
    if latest is not None and _is_refinement(latest.query, query):
        session.execute(_REFINE, {"row": latest.id, **values})
        return latest.id
    inserted = session.execute(_INSERT, {**values, "source": source, "created_at": now, **who})
    return inserted.inserted_primary_key[0]


# Live search logs a search on every keystroke. These statements are built once, and run without the ORM's unit of
# work: building them on each call and flushing one object took twice as long as running them (1.1 ms of a live
# search against 0.5 ms, measured on SQLite).
_LOGS = SearchLog.__table__


def _latest_search_of(column) -> Select:
    return (select(_LOGS.c.id, _LOGS.c.query)
            .where(column == bindparam("who"), _LOGS.c.updated_at >= bindparam("since"),
                   _LOGS.c.opened_path.is_(None), _LOGS.c.source == bindparam("source"))
            .order_by(_LOGS.c.updated_at.desc()).limit(1))


_LATEST_BY_USER, _LATEST_BY_VISITOR = _latest_search_of(_LOGS.c.user_id), _latest_search_of(_LOGS.c.visitor_id)
_REFINE = update(_LOGS).where(_LOGS.c.id == bindparam("row"))
_INSERT = insert(_LOGS)


def _is_refinement(previous: str, current: str) -> bool:
    before, after = normalize_query(previous), normalize_query(current)
    return after.startswith(before) or before.startswith(after)


def record_view(session: Session, *, article: Article, actor: User | None, visitor_id: str | None,
                search_id: int | None, now: datetime) -> ArticleView:
    """Count a view; when it came from a search result of the same visitor, remember which one was opened."""
    search = session.get(SearchLog, search_id) if search_id else None
    who = _who(actor, visitor_id)
    if search is not None and (search.user_id, search.visitor_id) == (who["user_id"], who["visitor_id"]):
        if search.opened_path is None:
            search.opened_path = article.path[:PATH_LENGTH]
    else:
        search = None
    view = ArticleView(path=article.path[:PATH_LENGTH], lang=article.lang, search_id=search.id if search else None,
                       created_at=now, **who)
    session.add(view)
    return view


def _voter(actor: User | None, visitor_id: str | None) -> str:
    if actor is not None:
        return f"user:{actor.id}"
    if not visitor_id:
        raise Invalid(N_("Please enable cookies to vote."))
    return f"visitor:{visitor_id}"


def current_vote(session: Session, *, path: str, actor: User | None, visitor_id: str | None) -> ArticleVote | None:
    if actor is None and not visitor_id:
        return None
    return session.scalars(select(ArticleVote).where(ArticleVote.path == path,
                                                     ArticleVote.voter == _voter(actor, visitor_id))).first()


def vote(session: Session, *, article: Article, helpful: bool, comment: str | None, actor: User | None,
         visitor_id: str | None, now: datetime) -> ArticleVote:
    """"Was this helpful?": one vote per visitor and article; voting again changes it. The comment
    ("what was missing?") is optional and replaced by the latest one given."""
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise Invalid(N_("Please keep your comment under 1000 characters."), field="comment")
    existing = current_vote(session, path=article.path, actor=actor, visitor_id=visitor_id)
    if existing is None:
        existing = ArticleVote(path=article.path[:PATH_LENGTH], voter=_voter(actor, visitor_id), created_at=now,
                               **_who(actor, visitor_id))
        session.add(existing)
    existing.helpful, existing.updated_at = helpful, now
    if comment or helpful:
        existing.comment = comment or None
    return existing


def popular_paths(session: Session, *, since: datetime, limit: int = 5) -> list[str]:
    """The most viewed articles since `since`, most viewed first."""
    rows = session.execute(
        select(ArticleView.path, func.count().label("views")).where(ArticleView.created_at >= since)
        .group_by(ArticleView.path).order_by(func.count().desc(), ArticleView.path).limit(limit * 3)
    )
    return [path for path, _views in rows]


def vote_counts(session: Session, path: str) -> tuple[int, int]:
    """(helpful, not helpful) votes for an article."""
    rows = dict(session.execute(select(ArticleVote.helpful, func.count()).where(ArticleVote.path == path)
                                .group_by(ArticleVote.helpful)).all())
    return rows.get(True, 0), rows.get(False, 0)
