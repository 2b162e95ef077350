"""default group: tickets that arrive without a group (mail, the API, phone) go to the group an admin chose

Revision ID: f3a9c2d5b608
Revises: e7a1b2c3d407
Create Date: 2026-12-07 21:00:00

At most one group is the default: a unique index over the rows that are it (partial, on SQLite and PostgreSQL).
"""
import sqlalchemy as sa
from alembic import op

revision = 'f3a9c2d5b608'
down_revision = 'e7a1b2c3d407'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_default", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_index("uq_groups_is_default", "groups", ["is_default"], unique=True,
                    sqlite_where=sa.text("is_default"), postgresql_where=sa.text("is_default"))


def downgrade() -> None:
    op.drop_index("uq_groups_is_default", table_name="groups")
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.drop_column("is_default")
