"""default automations: when a ticket's status began, and the timers as automations that ship with Mesa

Revision ID: c6e2f4a8b411
Revises: b5d1e3f7a410
Create Date: 2026-12-08 00:40:00

`tickets.status_changed_at` is filled from each ticket's latest status event (its creation when it has none),
which is how the timers knew when a pending period began. Then the three default automations are installed
(services.rules.defaults), with the delays configured at this moment, after any rules that exist. This runs
once: an admin who deletes them later does not get them back.
"""
import sqlalchemy as sa
from alembic import context, op

revision = 'c6e2f4a8b411'
down_revision = 'b5d1e3f7a410'
branch_labels = None
depends_on = None

# The tables as they are at this revision (not the models, which may have moved on).
tickets = sa.table('tickets', sa.column('id', sa.Integer), sa.column('created_at', sa.DateTime),
                   sa.column('status_changed_at', sa.DateTime))
events = sa.table('ticket_events', sa.column('id', sa.Integer), sa.column('ticket_id', sa.Integer),
                  sa.column('field', sa.String), sa.column('created_at', sa.DateTime))
rules = sa.table('rules', sa.column('id', sa.Integer), sa.column('name', sa.String), sa.column('position', sa.Integer),
                 sa.column('enabled', sa.Boolean), sa.column('kind', sa.String),
                 sa.column('once_per_ticket', sa.Boolean), sa.column('events', sa.JSON),
                 sa.column('conditions_all', sa.JSON), sa.column('conditions_any', sa.JSON),
                 sa.column('actions', sa.JSON), sa.column('created_at', sa.DateTime),
                 sa.column('updated_at', sa.DateTime), sa.column('version', sa.Integer))
rule_changes = sa.table('rule_changes', sa.column('id', sa.Integer), sa.column('rule_id', sa.Integer),
                        sa.column('rule_name', sa.String), sa.column('actor_id', sa.Integer),
                        sa.column('at', sa.DateTime), sa.column('what', sa.String), sa.column('snapshot', sa.JSON))
INSTALLED = 'installed'


def upgrade() -> None:
    with op.batch_alter_table('tickets') as batch:
        batch.add_column(sa.Column('status_changed_at', sa.DateTime(), nullable=True))
    latest = (sa.select(sa.func.max(events.c.created_at))
              .where(events.c.ticket_id == tickets.c.id, events.c.field == 'status').scalar_subquery())
    op.execute(tickets.update().values(status_changed_at=sa.func.coalesce(latest, tickets.c.created_at)))
    with op.batch_alter_table('tickets') as batch:
        batch.alter_column('status_changed_at', existing_type=sa.DateTime(), nullable=False)
        batch.create_index('ix_tickets_status_status_changed', ['status', 'status_changed_at'])
    install_default_automations(op.get_bind())


def install_default_automations(bind) -> None:
    from portal.clock import utcnow
    from portal.services.rules.defaults import Delays, default_automations

    app = context.config.attributes.get('app')
    delays = Delays.from_config(app.config if app is not None else {})
    now = utcnow().replace(microsecond=0)
    taken = set(bind.execute(sa.select(rules.c.name)).scalars())
    position = bind.execute(sa.select(sa.func.max(rules.c.position))).scalar() or 0
    for data in default_automations(delays):
        name = data['name'] if data['name'] not in taken else f"{data['name']} (Mesa)"
        position += 1
        row = {**data, 'name': name, 'position': position, 'created_at': now, 'updated_at': now, 'version': 1}
        rule_id = bind.execute(rules.insert().values(**row).returning(rules.c.id)).scalar_one()
        snapshot = {key: row[key] for key in ('name', 'kind', 'enabled', 'once_per_ticket', 'events',
                                              'conditions_all', 'conditions_any', 'actions', 'position')}
        bind.execute(rule_changes.insert().values(rule_id=rule_id, rule_name=name, actor_id=None, at=now,
                                                  what=INSTALLED, snapshot=snapshot))


def downgrade() -> None:
    # The earlier code has the timers instead, and knows neither these conditions nor these actions.
    bind = op.get_bind()
    installed = sa.select(rule_changes.c.rule_id).where(rule_changes.c.what == INSTALLED,
                                                        rule_changes.c.rule_id.is_not(None))
    ids = list(bind.execute(installed).scalars())
    if ids:
        bind.execute(rule_changes.delete().where(rule_changes.c.what == INSTALLED))
        bind.execute(rules.delete().where(rules.c.id.in_(ids)))
    with op.batch_alter_table('tickets') as batch:
        batch.drop_index('ix_tickets_status_status_changed')
        batch.drop_column('status_changed_at')
