"""Every e-mail the support mailbox received, and what became of it (one row per Message-ID)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.clock import utcnow
from portal.db import Base

INBOUND_OUTCOMES = (
    "created", "follow_up", "replied", "held", "duplicate", "auto", "own", "bounce", "rate_limited", "refused",
)


class InboundMail(Base):
    """The unique Message-ID makes ingestion idempotent: a message delivered twice (an MTA retry, an IMAP
    mailbox read by two hosts) is acted on once. The sender and time count new tickets per sender."""

    __tablename__ = "inbound_mails"
    __table_args__ = (Index("ix_inbound_mails_sender_received_at", "sender", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    # Stored lower-cased.
    sender: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    ticket_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id", ondelete="SET NULL"))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<InboundMail {self.message_id} {self.outcome}>"
