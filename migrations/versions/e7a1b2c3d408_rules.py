"""rules: triggers, their firings and audit trail; rule-made ticket events; a ticket's own SLA plan

Revision ID: e7a1b2c3d408
Revises: f3a9c2d5b608
Create Date: 2026-11-25 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'e7a1b2c3d408'
down_revision = 'f3a9c2d5b608'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('conditions_all', sa.JSON(), nullable=False),
    sa.Column('conditions_any', sa.JSON(), nullable=False),
    sa.Column('actions', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('disabled_reason', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_rules_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_rules_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rules')),
    sa.UniqueConstraint('name', name=op.f('uq_rules_name'))
    )
    with op.batch_alter_table('rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rules_position'), ['position'], unique=False)

    op.create_table('rule_firings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('fired_at', sa.DateTime(), nullable=False),
    sa.Column('event', sa.String(length=32), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['rule_id'], ['rules.id'], name=op.f('fk_rule_firings_rule_id_rules'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_rule_firings_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_firings'))
    )
    with op.batch_alter_table('rule_firings', schema=None) as batch_op:
        batch_op.create_index('ix_rule_firings_rule_id_fired_at', ['rule_id', 'fired_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_rule_firings_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('rule_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=True),
    sa.Column('rule_name', sa.String(length=120), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('what', sa.String(length=16), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_rule_changes_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['rule_id'], ['rules.id'], name=op.f('fk_rule_changes_rule_id_rules'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_changes'))
    )
    with op.batch_alter_table('rule_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rule_changes_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_rule_changes_rule_id'), ['rule_id'], unique=False)

    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rule_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_ticket_events_rule_id_rules'), 'rules', ['rule_id'], ['id'],
                                    ondelete='SET NULL')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sla_plan', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('sla_plan')
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_ticket_events_rule_id_rules'), type_='foreignkey')
        batch_op.drop_column('rule_id')
    with op.batch_alter_table('rule_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rule_changes_rule_id'))
        batch_op.drop_index(batch_op.f('ix_rule_changes_at'))
    op.drop_table('rule_changes')
    with op.batch_alter_table('rule_firings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rule_firings_ticket_id'))
        batch_op.drop_index('ix_rule_firings_rule_id_fired_at')
    op.drop_table('rule_firings')
    with op.batch_alter_table('rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rules_position'))
    op.drop_table('rules')
