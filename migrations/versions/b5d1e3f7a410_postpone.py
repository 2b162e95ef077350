"""postpone: a ticket's postponed_until (out of the working queues until then)

Revision ID: b5d1e3f7a410
Revises: e8a4b6c0d413
Create Date: 2026-12-08 00:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'b5d1e3f7a410'
down_revision = 'e8a4b6c0d413'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets') as batch:
        batch.add_column(sa.Column('postponed_until', sa.DateTime(), nullable=True))
    # The "Postponed" queue and the job that wakes tickets read the few postponed tickets through this index.
    op.create_index('ix_tickets_postponed_until', 'tickets', ['postponed_until'])


def downgrade() -> None:
    op.drop_index('ix_tickets_postponed_until', table_name='tickets')
    with op.batch_alter_table('tickets') as batch:
        batch.drop_column('postponed_until')
