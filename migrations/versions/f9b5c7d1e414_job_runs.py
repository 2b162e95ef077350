"""job_runs: the background worker's lease and last run of each periodic job

Revision ID: f9b5c7d1e414
Revises: c6e2f4a8b411
Create Date: 2026-12-08 01:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'f9b5c7d1e414'
down_revision = 'c6e2f4a8b411'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'job_runs',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('lease_owner', sa.String(length=120), nullable=True),
        sa.Column('lease_until', sa.DateTime(), nullable=True),
        sa.Column('last_started_at', sa.DateTime(), nullable=True),
        sa.Column('last_finished_at', sa.DateTime(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('last_duration_ms', sa.Integer(), nullable=True),
        sa.Column('next_run_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_job_runs')),
    )


def downgrade() -> None:
    op.drop_table('job_runs')
