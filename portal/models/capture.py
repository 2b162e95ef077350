"""Knowledge capture: article drafts made from tickets, earlier versions of published articles, and which
sections need a second pair of eyes before publishing. The articles themselves are files (see `articles.py`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.db import Base
from portal.models.accounts import User
from portal.models.kb import PATH_LENGTH
from portal.models.tickets import Ticket

DRAFT_STATES = ("draft", "in_review", "published", "archived")


class ArticleDraft(Base):
    """An article being written: new (from a ticket, a content gap or a translation), or an edit of a
    published file (`published_path` set, `base_version` = the file's content hash when the editor opened)."""

    __tablename__ = "article_drafts"
    __table_args__ = (Index("ix_article_drafts_state_updated", "state", "updated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    source_tickets: Mapped[list[str]] = mapped_column(JSON, default=list)
    title: Mapped[str] = mapped_column(String(200), default="")
    summary: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    section: Mapped[str] = mapped_column(String(120), default="general")
    lang: Mapped[str] = mapped_column(String(8), default="en")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    translation_key: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[str] = mapped_column(String(16), default="draft")
    review_comment: Mapped[str | None] = mapped_column(Text)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # What scrubbing took out of the ticket text: [{"kind": ..., "original": ...}], shown to the agent only.
    removed: Mapped[list[dict]] = mapped_column(JSON, default=list)
    published_path: Mapped[str | None] = mapped_column(String(PATH_LENGTH), index=True)
    append_to_path: Mapped[str | None] = mapped_column(String(PATH_LENGTH))
    translation_of_path: Mapped[str | None] = mapped_column(String(PATH_LENGTH))
    base_version: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])
    ticket: Mapped[Ticket | None] = relationship()

    @property
    def is_open(self) -> bool:
        return self.state in ("draft", "in_review")


class ArticleRevision(Base):
    """An article file as it was before someone changed it from the web: who, when, and the whole text."""

    __tablename__ = "article_revisions"
    __table_args__ = (Index("ix_article_revisions_path_created", "path", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(PATH_LENGTH))
    body: Mapped[str] = mapped_column(Text)
    front_matter: Mapped[dict] = mapped_column(JSON, default=dict)
    content_hash: Mapped[str] = mapped_column(String(64))
    change: Mapped[str] = mapped_column(String(32), default="edit")  # edit, append, archive, unpublish, republish
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User | None] = relationship()


class SectionReview(Base):
    """Whether articles in a knowledge-base section need a second agent's approval before publishing."""

    __tablename__ = "kb_section_reviews"

    section: Mapped[str] = mapped_column(String(120), primary_key=True)
    review_required: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
