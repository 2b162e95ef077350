"""e-mail channel, phone tickets

Revision ID: e7a1b2c3d401
Revises: 9a9a38707f97
Create Date: 2026-11-23 11:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'e7a1b2c3d401'
down_revision = '9a9a38707f97'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inbound_mails',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=255), nullable=False),
    sa.Column('sender', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('ticket_message_id', sa.Integer(), nullable=True),
    sa.Column('notification_id', sa.Integer(), nullable=True),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_inbound_mails_ticket_id_tickets'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_message_id'], ['messages.id'], name=op.f('fk_inbound_mails_ticket_message_id_messages'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'], name=op.f('fk_inbound_mails_notification_id_notifications'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_mails')),
    sa.UniqueConstraint('message_id', name=op.f('uq_inbound_mails_message_id'))
    )
    with op.batch_alter_table('inbound_mails', schema=None) as batch_op:
        batch_op.create_index('ix_inbound_mails_sender_received_at', ['sender', 'received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbound_mails_ticket_id'), ['ticket_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inbound_mails', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_mails_ticket_id'))
        batch_op.drop_index('ix_inbound_mails_sender_received_at')
    op.drop_table('inbound_mails')
