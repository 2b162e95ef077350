"""automation indexes: solved tickets by the time they were solved

Revision ID: e8a4b6c0d413
Revises: d7f3a5b9c412
Create Date: 2026-12-08 00:30:00
"""
from alembic import op

revision = 'e8a4b6c0d413'
down_revision = 'd7f3a5b9c412'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # "Solved more than N hours ago" (an automation's candidates): status and solved_at in one range, where
    # ix_tickets_status_created read every solved ticket and ix_tickets_solved_at every closed one too.
    op.create_index('ix_tickets_status_solved', 'tickets', ['status', 'solved_at'])


def downgrade() -> None:
    op.drop_index('ix_tickets_status_solved', table_name='tickets')
