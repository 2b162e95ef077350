"""session generation: a number in every login session, raised to end all of a person's sessions

Revision ID: e7a1b2c3d407
Revises: e7a1b2c3d406
Create Date: 2026-11-24 09:00:00

Sessions made before this revision carry the bare user id and no longer name anyone: everybody logs in once more.
"""
import sqlalchemy as sa
from alembic import op

revision = 'e7a1b2c3d407'
down_revision = 'e7a1b2c3d406'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_generation", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_generation")
