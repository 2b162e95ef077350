"""Knowledge-base analytics: searches, article views and votes. Articles themselves are files.

Only what the reports need is kept: the query, the language, counts, paths, an anonymous visitor id (a
random value kept in the visitor's session cookie) or the user's id, and times. No IP address, no
user agent, nothing else personal.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.clock import utcnow
from portal.db import Base

PATH_LENGTH = 500
QUERY_LENGTH = 500
VISITOR_LENGTH = 64


class SearchLog(Base):
    """One search a customer made (as-you-type refinements of it update the same row)."""

    __tablename__ = "kb_search_logs"
    __table_args__ = (Index("ix_kb_search_logs_created", "created_at"),
                      Index("ix_kb_search_logs_normalized", "normalized_query"))

    id: Mapped[int] = mapped_column(primary_key=True)
    query: Mapped[str] = mapped_column(String(QUERY_LENGTH))
    normalized_query: Mapped[str] = mapped_column(String(QUERY_LENGTH))
    lang: Mapped[str] = mapped_column(String(8))
    result_count: Mapped[int] = mapped_column(Integer)
    opened_path: Mapped[str | None] = mapped_column(String(PATH_LENGTH))
    source: Mapped[str] = mapped_column(String(8), default="web")  # web or api
    visitor_id: Mapped[str | None] = mapped_column(String(VISITOR_LENGTH), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ArticleView(Base):
    __tablename__ = "kb_article_views"
    __table_args__ = (Index("ix_kb_article_views_path_created", "path", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(PATH_LENGTH))
    lang: Mapped[str] = mapped_column(String(8))
    visitor_id: Mapped[str | None] = mapped_column(String(VISITOR_LENGTH))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    search_id: Mapped[int | None] = mapped_column(ForeignKey("kb_search_logs.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ArticleVote(Base):
    """"Was this helpful?": one vote per visitor (or user) per article, which they may change."""

    __tablename__ = "kb_article_votes"
    __table_args__ = (UniqueConstraint("path", "voter", name="uq_kb_article_votes_path_voter"),
                      Index("ix_kb_article_votes_path", "path"))

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(PATH_LENGTH))
    # "user:<id>" for a logged-in user, else "visitor:<anonymous id>": the uniqueness key of a vote.
    voter: Mapped[str] = mapped_column(String(VISITOR_LENGTH + 10))
    visitor_id: Mapped[str | None] = mapped_column(String(VISITOR_LENGTH))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    helpful: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
