"""API tokens and idempotency keys

Revision ID: e7a1b2c3d402
Revises: e7a1b2c3d401
Create Date: 2026-11-23 11:45:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = 'e7a1b2c3d402'
down_revision = 'e7a1b2c3d401'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
