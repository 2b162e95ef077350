"""macros: agents' bundles of actions and a bilingual reply; every canned response copied into one

Revision ID: e7a1b2c3d409
Revises: e7a1b2c3d408
Create Date: 2026-12-07 21:50:00

Canned responses stay as they are (their pages and the composer's "Insert" keep working); each one also
becomes a macro with the same title, texts and owner, whose actions are the canned response's status,
priority and tags. Nothing is lost, and a downgrade drops only the copies.
"""
import sqlalchemy as sa
from alembic import op

revision = 'e7a1b2c3d409'
down_revision = 'e7a1b2c3d408'
branch_labels = None
depends_on = None


def upgrade() -> None:
    macros = op.create_table('macros',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('body_en', sa.Text(), nullable=False),
    sa.Column('body_es', sa.Text(), nullable=False),
    sa.Column('actions', sa.JSON(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('canned_response_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_macros_owner_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_macros_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_macros_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_macros'))
    )
    with op.batch_alter_table('macros', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_macros_owner_id'), ['owner_id'], unique=False)
    _copy_canned_responses(macros)


def _copy_canned_responses(macros: sa.Table) -> None:
    canned = sa.table('canned_responses', sa.column('id', sa.Integer), sa.column('title', sa.String),
                      sa.column('body_en', sa.Text), sa.column('body_es', sa.Text), sa.column('owner_id', sa.Integer),
                      sa.column('set_status', sa.String), sa.column('set_priority', sa.String),
                      sa.column('add_tags', sa.JSON), sa.column('active', sa.Boolean),
                      sa.column('created_at', sa.DateTime))
    bind = op.get_bind()
    rows = []
    for row in bind.execute(sa.select(canned).where(canned.c.active.is_(True)).order_by(canned.c.id)):
        actions = []
        if row.set_status:
            actions.append({"type": "set_status", "value": row.set_status})
        if row.set_priority:
            actions.append({"type": "set_priority", "value": row.set_priority})
        if row.add_tags:
            actions.append({"type": "add_tags", "value": list(row.add_tags)})
        rows.append({"title": row.title, "body_en": row.body_en or "", "body_es": row.body_es or "",
                     "actions": actions, "owner_id": row.owner_id, "canned_response_id": row.id,
                     "created_at": row.created_at, "updated_at": row.created_at,
                     "created_by_id": row.owner_id, "updated_by_id": row.owner_id})
    if rows:
        op.bulk_insert(macros, rows)


def downgrade() -> None:
    with op.batch_alter_table('macros', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_macros_owner_id'))
    op.drop_table('macros')
