"""reporting rollups and indexes

Revision ID: e7a1b2c3d403
Revises: e7a1b2c3d402
Create Date: 2026-11-23 11:45:00
"""
from alembic import op

revision = 'e7a1b2c3d403'
down_revision = 'e7a1b2c3d402'
branch_labels = None
depends_on = None

# (index, table, column): the range scans of the support dashboard (portal/models/reports.py).
INDEXES = (
    ("ix_tickets_created_at", "tickets", "created_at"),
    ("ix_tickets_solved_at", "tickets", "solved_at"),
    ("ix_messages_created_at", "messages", "created_at"),
    ("ix_kb_article_views_created_at", "kb_article_views", "created_at"),
    ("ix_satisfaction_ratings_updated_at", "satisfaction_ratings", "updated_at"),
)


def upgrade() -> None:
    for name, table, column in INDEXES:
        op.create_index(name, table, [column])


def downgrade() -> None:
    for name, table, _column in reversed(INDEXES):
        op.drop_index(name, table_name=table)
