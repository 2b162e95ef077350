"""automations: a rule's kind (trigger or automation) and its once-per-ticket guard

Revision ID: a4c8d2e6f409
Revises: e7a1b2c3d409
Create Date: 2026-12-07 21:45:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'a4c8d2e6f409'
down_revision = 'e7a1b2c3d409'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('rules') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=16), server_default='trigger', nullable=False))
        batch.add_column(sa.Column('once_per_ticket', sa.Boolean(), server_default=sa.false(), nullable=False))
    # "Has this automation fired on this ticket?" (the once-per-ticket guard) reads through this index.
    op.create_index('ix_rule_firings_rule_id_ticket_id', 'rule_firings', ['rule_id', 'ticket_id'])


def downgrade() -> None:
    op.drop_index('ix_rule_firings_rule_id_ticket_id', table_name='rule_firings')
    with op.batch_alter_table('rules') as batch:
        batch.drop_column('once_per_ticket')
        batch.drop_column('kind')
