"""The agent desk's own tables: in-app notifications and e-mail preferences, who is looking at a ticket,
canned responses, and the knowledge-base articles sent to a customer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.db import Base
from portal.models.accounts import User
from portal.models.tickets import Ticket

AGENT_NOTIFICATION_KINDS = ("customer_reply", "assigned", "reopened", "new_unassigned", "sla_warning",
                            "sla_breached")


class AgentNotification(Base):
    """One line in an agent's in-app list: what happened to which ticket, read or not."""

    __tablename__ = "agent_notifications"
    __table_args__ = (Index("ix_agent_notifications_user_read_id", "user_id", "read_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User] = relationship()
    ticket: Mapped[Ticket] = relationship()


class AgentNotificationPref(Base):
    """Which kinds an agent also wants by e-mail (no row: the defaults in services.agent_notifications)."""

    __tablename__ = "agent_notification_prefs"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    email_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)


class TicketPresence(Base):
    """An agent has the ticket open (and maybe is typing): refreshed every few seconds while they do."""

    __tablename__ = "ticket_presence"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    typing_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User] = relationship()


class CannedResponse(Base):
    """A ready answer in English and Spanish; shared (owner empty, admins edit) or personal. Replaced by macros
    (services.macros), which were copied from these rows: the table is kept so nothing is lost, but no code reads
    or writes it any more."""

    __tablename__ = "canned_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    body_en: Mapped[str] = mapped_column(Text)
    body_es: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    set_status: Mapped[str | None] = mapped_column(String(16))
    set_priority: Mapped[str | None] = mapped_column(String(8))
    add_tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    owner: Mapped[User | None] = relationship()


class SentArticle(Base):
    """A knowledge-base article an agent linked in a reply to the customer."""

    __tablename__ = "sent_articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    article_path: Mapped[str] = mapped_column(String(255), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
