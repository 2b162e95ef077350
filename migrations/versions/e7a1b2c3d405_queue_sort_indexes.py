"""queue sort indexes: SLA, priority and age orders per view; follow-ups of a ticket

Revision ID: e7a1b2c3d405
Revises: e7a1b2c3d404
Create Date: 2026-11-23 12:05:00
"""
from alembic import op

revision = 'e7a1b2c3d405'
down_revision = 'e7a1b2c3d404'
branch_labels = None
depends_on = None

INDEXES = {
    "ix_tickets_status_sla": ["status", "sla_due_at", "id"],
    "ix_tickets_assignee_status_sla": ["assignee_id", "status", "sla_due_at", "id"],
    "ix_tickets_group_status_sla": ["group_id", "status", "sla_due_at", "id"],
    "ix_tickets_status_priority": ["status", "priority", "id"],
    "ix_tickets_assignee_status_priority": ["assignee_id", "status", "priority", "id"],
    "ix_tickets_group_status_priority": ["group_id", "status", "priority", "id"],
    "ix_tickets_status_created": ["status", "created_at", "id"],
    "ix_tickets_assignee_status_created": ["assignee_id", "status", "created_at", "id"],
    "ix_tickets_group_status_created": ["group_id", "status", "created_at", "id"],
    "ix_tickets_follow_up_of_id": ["follow_up_of_id"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "tickets", columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="tickets")
