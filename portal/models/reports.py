"""What the support dashboard reads (services.reports): indexes for its range scans, and the per-ticket rollup.

A period's tickets are those created in it and those solved in it. Measuring each of them (first reply and
resolution in the SLA's business minutes, pauses, reopens, replies) at request time grows with the period:
at a million tickets, 145,000 tickets in 30 days took seconds. `TicketMetric` holds those measurements, one
row per ticket, recomputed in the transaction that changes the ticket (services.report_rollup), so a period
is a few aggregates over `created_at` or `solved_at` (bench/RESULTS.md has the figures); `ReplyMetric` does the
same for the agents' public replies.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base
from portal.models.kb import ArticleView
from portal.models.notifications import SatisfactionRating
from portal.models.tickets import Message, Ticket

REPORT_INDEXES = (
    Index("ix_tickets_created_at", Ticket.created_at),
    Index("ix_tickets_solved_at", Ticket.solved_at),
    Index("ix_messages_created_at", Message.created_at),
    Index("ix_kb_article_views_created_at", ArticleView.created_at),
    Index("ix_satisfaction_ratings_updated_at", SatisfactionRating.updated_at),
)

# The ticket's columns the dashboard filters and scopes by, copied into the rollup rows.
FILTER_COLUMNS = ("assignee_id", "group_id", "channel", "category_id", "language", "priority")


class _TicketFilters:
    """Copies of the ticket's filter columns (FILTER_COLUMNS), so that a filtered period never joins the tickets."""

    group_id: Mapped[int | None] = mapped_column(Integer)
    assignee_id: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(8))
    category_id: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(8))
    priority: Mapped[str] = mapped_column(String(8))


class TicketMetric(_TicketFilters, Base):
    """One ticket as the dashboard measures it (docs/metrics.md). Derived data: `flask --app app reports
    rebuild` recomputes every row from the tickets, their events and their messages."""

    __tablename__ = "ticket_metrics"
    # Covering indexes: a period, whoever asks and whatever the filters, is read from one index alone.
    __table_args__ = (
        Index("ix_ticket_metrics_created", "created_at", "created_on", *FILTER_COLUMNS, "first_reply_minutes",
              "first_reply_met", "first_reply_late_after"),
        Index("ix_ticket_metrics_solved", "solved_at", "solved_on", *FILTER_COLUMNS, "resolution_minutes",
              "resolution_met", "reopened", "agent_replies"),
    )

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column()
    created_on: Mapped[date] = mapped_column(Date)
    solved_at: Mapped[datetime | None] = mapped_column()
    solved_on: Mapped[date | None] = mapped_column(Date)
    # Minutes on the clock of the ticket's SLA policy (business minutes when it counts business hours).
    first_reply_minutes: Mapped[float | None] = mapped_column(Float)
    # Answered with a first-reply target: met or not. Unanswered with a target: the moment after which it is
    # late whatever happens next (the dashboard counts it as a miss once that moment has passed).
    first_reply_met: Mapped[bool | None] = mapped_column()
    first_reply_late_after: Mapped[datetime | None] = mapped_column()
    resolution_minutes: Mapped[float | None] = mapped_column(Float)
    resolution_met: Mapped[bool | None] = mapped_column()
    reopened: Mapped[bool] = mapped_column(default=False)
    agent_replies: Mapped[int] = mapped_column(Integer, default=0)


class ReplyMetric(_TicketFilters, Base):
    """A public reply by an agent or admin, with its ticket's filter columns: the per-agent reply counts of a
    period without joining the messages to their tickets and authors. Kept with `TicketMetric`."""

    __tablename__ = "reply_metrics"
    __table_args__ = (Index("ix_reply_metrics_created", "created_at", "author_id", *FILTER_COLUMNS),)

    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column()
    author_id: Mapped[int] = mapped_column(Integer)
