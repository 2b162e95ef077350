"""report rollup: one row of dashboard measurements per ticket, one per public agent reply

Revision ID: e7a1b2c3d406
Revises: e7a1b2c3d405
Create Date: 2026-11-23 12:50:00

The rows are derived data: after upgrading a database that already has tickets, fill them with
`flask --app app reports rebuild` (the dashboard's period figures read them).
"""
import sqlalchemy as sa
from alembic import op

revision = 'e7a1b2c3d406'
down_revision = 'e7a1b2c3d405'
branch_labels = None
depends_on = None

# Copied from the tickets; the covering indexes end with them so that a filtered period reads one index.
FILTER_COLUMNS = ["assignee_id", "group_id", "channel", "category_id", "language", "priority"]


def upgrade() -> None:
    op.create_table(
        "ticket_metrics",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.Column("solved_at", sa.DateTime(), nullable=True),
        sa.Column("solved_on", sa.Date(), nullable=True),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("priority", sa.String(length=8), nullable=False),
        sa.Column("first_reply_minutes", sa.Float(), nullable=True),
        sa.Column("first_reply_met", sa.Boolean(), nullable=True),
        sa.Column("first_reply_late_after", sa.DateTime(), nullable=True),
        sa.Column("resolution_minutes", sa.Float(), nullable=True),
        sa.Column("resolution_met", sa.Boolean(), nullable=True),
        sa.Column("reopened", sa.Boolean(), nullable=False),
        sa.Column("agent_replies", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_metrics_ticket_id_tickets"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_ticket_metrics")),
    )
    op.create_index("ix_ticket_metrics_created", "ticket_metrics",
                    ["created_at", "created_on", *FILTER_COLUMNS, "first_reply_minutes", "first_reply_met",
                     "first_reply_late_after"])
    op.create_index("ix_ticket_metrics_solved", "ticket_metrics",
                    ["solved_at", "solved_on", *FILTER_COLUMNS, "resolution_minutes", "resolution_met", "reopened",
                     "agent_replies"])
    op.create_table(
        "reply_metrics",
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("priority", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], name=op.f("fk_reply_metrics_message_id_messages"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_reply_metrics_ticket_id_tickets"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_reply_metrics")),
    )
    op.create_index("ix_reply_metrics_ticket_id", "reply_metrics", ["ticket_id"])
    op.create_index("ix_reply_metrics_created", "reply_metrics", ["created_at", "author_id", *FILTER_COLUMNS])


def downgrade() -> None:
    op.drop_index("ix_reply_metrics_created", table_name="reply_metrics")
    op.drop_index("ix_reply_metrics_ticket_id", table_name="reply_metrics")
    op.drop_table("reply_metrics")
    op.drop_index("ix_ticket_metrics_solved", table_name="ticket_metrics")
    op.drop_index("ix_ticket_metrics_created", table_name="ticket_metrics")
    op.drop_table("ticket_metrics")
