"""Tickets, their conversation, their attachments and their audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import utcnow
from portal.db import Base
from portal.models.accounts import Group, User

if TYPE_CHECKING:
    from portal.models.catalog import Category, TicketFieldValue
    from portal.models.custom_statuses import CustomStatus
    from portal.models.rules import Rule

PRIORITIES = ("low", "normal", "high", "urgent")
CHANNELS = ("web", "email", "api", "phone")


def _created_or_now(context) -> datetime:
    return context.get_current_parameters().get("created_at") or utcnow()


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_status_updated", "status", "updated_at"),
        Index("ix_tickets_assignee_status_updated", "assignee_id", "status", "updated_at"),
        Index("ix_tickets_group_status_updated", "group_id", "status", "updated_at"),
        Index("ix_tickets_requester_updated", "requester_id", "updated_at"),
        Index("ix_tickets_updated", "updated_at"),
        # The queue's other sort orders, read segment by segment (services/agent_queue.py), per view.
        Index("ix_tickets_status_sla", "status", "sla_due_at", "id"),
        Index("ix_tickets_assignee_status_sla", "assignee_id", "status", "sla_due_at", "id"),
        Index("ix_tickets_group_status_sla", "group_id", "status", "sla_due_at", "id"),
        Index("ix_tickets_status_priority", "status", "priority", "id"),
        Index("ix_tickets_assignee_status_priority", "assignee_id", "status", "priority", "id"),
        Index("ix_tickets_group_status_priority", "group_id", "status", "priority", "id"),
        Index("ix_tickets_status_created", "status", "created_at", "id"),
        Index("ix_tickets_assignee_status_created", "assignee_id", "status", "created_at", "id"),
        Index("ix_tickets_group_status_created", "group_id", "status", "created_at", "id"),
        # Automations on solved tickets ("hours since solved", services/rules/automations.py): the solved ones past
        # a moment, not every solved ticket (45,000 at 1M tickets, bench/automations.py).
        Index("ix_tickets_status_solved", "status", "solved_at"),
        # Automations' "pending for more than 7 days" reads through it (services.rules.automations).
        Index("ix_tickets_status_status_changed", "status", "status_changed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(16), unique=True)
    subject: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="new")
    priority: Mapped[str] = mapped_column(String(8), default="normal")
    channel: Mapped[str] = mapped_column(String(8), default="web")
    language: Mapped[str] = mapped_column(String(8), default="en")
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"))
    follow_up_of_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="SET NULL"))
    # The hidden random token of the form that filed it: a form sent twice files one ticket.
    client_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_response_at: Mapped[datetime | None] = mapped_column()
    solved_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    # When the current status began (status.apply_action sets it): "hours since the status changed" in the rules,
    # so an automation knows how long a ticket has been pending. Filed tickets start at their creation.
    status_changed_at: Mapped[datetime] = mapped_column(default=_created_or_now)
    # Optimistic locking: every update names the version it was based on.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # SLA (services.sla.refresh keeps them current): when the running target is due, when one was missed.
    sla_due_at: Mapped[datetime | None] = mapped_column(index=True)
    sla_breached_at: Mapped[datetime | None] = mapped_column(index=True)
    # A repeated incident points at its problem ticket (services.problems).
    problem_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    # An agent-facing label inside the core status (models.custom_statuses); cleared when the status changes.
    custom_status_id: Mapped[int | None] = mapped_column(ForeignKey("custom_statuses.id", ondelete="SET NULL"))
    # The SLA plan whose targets this ticket runs on, when a rule chose one (a department's own targets);
    # none: the requester's plan (services.sla.plan_of).
    sla_plan: Mapped[str | None] = mapped_column(String(16))
    # Postponed (services.postpone): out of the working queues until then, when it comes back open. Not a
    # status: the customer sees the ticket as it is.
    postponed_until: Mapped[datetime | None] = mapped_column(index=True)

    requester: Mapped[User] = relationship(foreign_keys=[requester_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    group: Mapped[Group | None] = relationship()
    follow_up_of: Mapped[Ticket | None] = relationship(remote_side=[id], foreign_keys=[follow_up_of_id])
    problem: Mapped[Ticket | None] = relationship(remote_side=[id], foreign_keys=[problem_id])
    custom_status: Mapped[CustomStatus | None] = relationship()
    category: Mapped[Category | None] = relationship()
    field_values: Mapped[list[TicketFieldValue]] = relationship(cascade="all, delete-orphan")
    ccs: Mapped[list[TicketCC]] = relationship(
        back_populates="ticket", cascade="all, delete-orphan", order_by="TicketCC.id"
    )
    tags: Mapped[list[TicketTag]] = relationship(
        back_populates="ticket", cascade="all, delete-orphan", order_by="TicketTag.tag"
    )
    messages: Mapped[list[Message]] = relationship(
        back_populates="ticket", order_by="Message.id", cascade="all, delete-orphan"
    )
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", cascade="all, delete-orphan"
    )

    @property
    def tag_names(self) -> list[str]:
        return [t.tag for t in self.tags]

    def __repr__(self) -> str:
        return f"<Ticket {self.ref} {self.status}>"


class TicketTag(Base):
    __tablename__ = "ticket_tags"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)

    ticket: Mapped[Ticket] = relationship(back_populates="tags")


class Message(Base):
    """One turn of the conversation: a public reply, or a private note only agents see."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_ticket_created", "ticket_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    channel: Mapped[str] = mapped_column(String(8), default="web")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="messages")
    author: Mapped[User | None] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="message", cascade="all, delete-orphan", order_by="Attachment.id"
    )


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(Integer)
    # A random name in the attachment folder; never derived from what the user uploaded.
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    message: Mapped[Message] = relationship(back_populates="attachments")


class TicketEvent(Base):
    """One change to a ticket: who (or the system, when actor is empty), when, and what changed."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_ticket_id_id", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    field: Mapped[str | None] = mapped_column(String(32))
    old_value: Mapped[str | None] = mapped_column(String(255))
    new_value: Mapped[str | None] = mapped_column(String(255))
    # The business rule that made this change (services.rules.engine); none: a person or a timer.
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("rules.id", ondelete="SET NULL"))

    ticket: Mapped[Ticket] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()
    rule: Mapped[Rule | None] = relationship()


class TicketCC(Base):
    """Someone the requester keeps in copy: they receive the same e-mails as the requester."""

    __tablename__ = "ticket_ccs"
    __table_args__ = (UniqueConstraint("ticket_id", "email", name="uq_ticket_ccs_ticket_id_email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    # Stored lower-cased.
    email: Mapped[str] = mapped_column(String(254))
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="ccs")


class TicketRead(Base):
    """When a person last opened a ticket's page: a newer agent reply is marked unread in their list."""

    __tablename__ = "ticket_reads"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class Deflection(Base):
    """A customer about to file a ticket said a knowledge-base article answered their question."""

    __tablename__ = "deflections"
    __table_args__ = (Index("ix_deflections_article_path_created_at", "article_path", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    query: Mapped[str] = mapped_column(String(500))
    article_path: Mapped[str] = mapped_column(String(255))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
