"""The e-mail outbox (one row per recipient and reason) and the customers' satisfaction ratings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.db import Base
from portal.models.accounts import User
from portal.models.tickets import Ticket

NOTIFICATION_STATUSES = ("queued", "sending", "sent", "failed")
RATINGS = ("good", "bad")


class Notification(Base):
    """An e-mail we owe someone about a ticket. Inserted in the transaction that caused it, sent after it
    commits; the row is also the log of who was told what, when and why."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_status_id", "status", "id"),
        Index("ix_notifications_ticket_id_id", "ticket_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    recipient_email: Mapped[str] = mapped_column(String(254))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    # Ids and flags only, never rendered text: the mail is rendered when it is sent.
    context: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()
    message_id: Mapped[str | None] = mapped_column(String(255))

    ticket: Mapped[Ticket] = relationship()
    recipient: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.kind} to {self.recipient_email} {self.status}>"


class SatisfactionRating(Base):
    """The requester's verdict on a solved ticket: good or bad, with an optional comment; one per ticket."""

    __tablename__ = "satisfaction_ratings"
    __table_args__ = (CheckConstraint("rating IN ('good', 'bad')", name="rating"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), unique=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    rating: Mapped[str] = mapped_column(String(8))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    ticket: Mapped[Ticket] = relationship()
    author: Mapped[User | None] = relationship()
