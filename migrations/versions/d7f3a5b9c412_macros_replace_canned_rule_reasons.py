"""macros replace canned responses; why a rule was switched off as a code and its values

Revision ID: d7f3a5b9c412
Revises: a4c8d2e6f409
Create Date: 2026-12-08 00:40:00

Two small changes of issue 18, in one step:

- Canned responses become macros for good: the composer and the pages read macros only from now on. The
  migration that brought macros in (e7a1b2c3d409) copied every active canned response; the canned pages kept
  working after it, so responses made since are copied here too: the active ones newer than the last one copied
  (a copy an agent deleted on purpose is not brought back).
  The canned_responses table stays, untouched, so nothing is lost. A downgrade keeps the copies (macros the
  older code shows as well); upgrading again copies nothing twice (`canned_response_id`).
- `rules.disabled_code` and `rules.disabled_params`: why the engine switched a rule off, as a code and its
  values, so the reason is shown in the reader's language (the English `disabled_reason` stays, for old rows
  and the logs).
"""
import sqlalchemy as sa
from alembic import op

revision = 'd7f3a5b9c412'
down_revision = 'a4c8d2e6f409'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('disabled_code', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('disabled_params', sa.JSON(), nullable=True))
    _copy_canned_responses_made_since()


def _copy_canned_responses_made_since() -> None:
    canned = sa.table('canned_responses', sa.column('id', sa.Integer), sa.column('title', sa.String),
                      sa.column('body_en', sa.Text), sa.column('body_es', sa.Text), sa.column('owner_id', sa.Integer),
                      sa.column('set_status', sa.String), sa.column('set_priority', sa.String),
                      sa.column('add_tags', sa.JSON), sa.column('active', sa.Boolean),
                      sa.column('created_at', sa.DateTime))
    macros = sa.table('macros', sa.column('id', sa.Integer), sa.column('title', sa.String),
                      sa.column('body_en', sa.Text), sa.column('body_es', sa.Text), sa.column('actions', sa.JSON),
                      sa.column('owner_id', sa.Integer), sa.column('canned_response_id', sa.Integer),
                      sa.column('created_at', sa.DateTime), sa.column('updated_at', sa.DateTime),
                      sa.column('created_by_id', sa.Integer), sa.column('updated_by_id', sa.Integer))
    bind = op.get_bind()
    last_copied = bind.execute(sa.select(sa.func.max(macros.c.canned_response_id))).scalar() or 0
    rows = []
    for row in bind.execute(sa.select(canned).where(canned.c.active.is_(True), canned.c.id > last_copied)
                            .order_by(canned.c.id)):
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
    with op.batch_alter_table('rules', schema=None) as batch_op:
        batch_op.drop_column('disabled_params')
        batch_op.drop_column('disabled_code')
