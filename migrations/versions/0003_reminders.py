"""reminders and escalation

Revision ID: 0003_reminders
Revises: 0002
Create Date: 2026-11-22 14:40:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
import tindaklanjut.adapters.orm


revision: str = '0003_reminders'
down_revision: Union[str, None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

UTC = tindaklanjut.adapters.orm.UTCDateTime
Text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table('reminder_contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', Text(), nullable=False),
    sa.Column('unit_id', Text(), nullable=False),
    sa.Column('role', Text(), nullable=False),
    sa.Column('name', Text(), nullable=False),
    sa.Column('email', Text(), nullable=True),
    sa.Column('webhook_url', Text(), nullable=True),
    sa.Column('updated_at', UTC(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('agency_id', 'unit_id', 'role', name='uq_reminder_contact_role')
    )
    with op.batch_alter_table('reminder_contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_contact_agency_id'), ['agency_id'], unique=False)

    op.create_table('reminder_schedule',
    sa.Column('recommendation_id', sa.String(), nullable=False),
    sa.Column('basis_due_at', UTC(timezone=True), nullable=False),
    sa.Column('next_at', UTC(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendation.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('recommendation_id')
    )
    with op.batch_alter_table('reminder_schedule', schema=None) as batch_op:
        batch_op.create_index('ix_reminder_schedule_next', ['next_at', 'recommendation_id'], unique=False)

    op.create_table('reminder_digest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', Text(), nullable=False),
    sa.Column('recipient', Text(), nullable=False),
    sa.Column('channel', Text(), nullable=False),
    sa.Column('address', Text(), nullable=False),
    sa.Column('name', Text(), nullable=False),
    sa.Column('digest_date', sa.Date(), nullable=False),
    sa.Column('zone', Text(), nullable=False),
    sa.Column('status', Text(), nullable=False),
    sa.Column('claims', sa.Integer(), nullable=False),
    sa.Column('lease_owner', Text(), nullable=True),
    sa.Column('lease_until', UTC(timezone=True), nullable=True),
    sa.Column('created_at', UTC(timezone=True), nullable=False),
    sa.Column('sent_at', UTC(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('recipient', 'digest_date', name='uq_reminder_digest_day'),
    sa.UniqueConstraint('uid')
    )
    with op.batch_alter_table('reminder_digest', schema=None) as batch_op:
        batch_op.create_index('ix_reminder_digest_status', ['status', 'id'], unique=False)

    op.create_table('reminder_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recommendation_id', Text(), nullable=False),
    sa.Column('step_key', Text(), nullable=False),
    sa.Column('step', Text(), nullable=False),
    sa.Column('offset_days', sa.Integer(), nullable=False),
    sa.Column('recipient', Text(), nullable=False),
    sa.Column('roles', Text(), nullable=False),
    sa.Column('digest_id', sa.Integer(), nullable=False),
    sa.Column('status', Text(), nullable=False),
    sa.Column('planned_at', UTC(timezone=True), nullable=False),
    sa.Column('sent_at', UTC(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['digest_id'], ['reminder_digest.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('recommendation_id', 'step_key', 'recipient', name='uq_reminder_delivery_once')
    )
    with op.batch_alter_table('reminder_delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_delivery_digest_id'), ['digest_id'], unique=False)

    op.create_table('reminder_escalation',
    sa.Column('recommendation_id', Text(), nullable=False),
    sa.Column('step_key', Text(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('escalated_at', UTC(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('recommendation_id', 'step_key')
    )
    op.create_table('reminder_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digest_id', sa.Integer(), nullable=False),
    sa.Column('channel', Text(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('started_at', UTC(timezone=True), nullable=False),
    sa.Column('finished_at', UTC(timezone=True), nullable=True),
    sa.Column('outcome', Text(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['digest_id'], ['reminder_digest.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('reminder_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_attempt_digest_id'), ['digest_id'], unique=False)

    lock = op.create_table('reminder_lock',
    sa.Column('name', Text(), nullable=False),
    sa.Column('owner', Text(), nullable=True),
    sa.Column('acquired_at', UTC(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name')
    )
    op.bulk_insert(lock, [{'name': 'planner'}])


def downgrade() -> None:
    op.drop_table('reminder_lock')
    with op.batch_alter_table('reminder_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_attempt_digest_id'))
    op.drop_table('reminder_attempt')
    op.drop_table('reminder_escalation')
    with op.batch_alter_table('reminder_delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_delivery_digest_id'))
    op.drop_table('reminder_delivery')
    with op.batch_alter_table('reminder_digest', schema=None) as batch_op:
        batch_op.drop_index('ix_reminder_digest_status')
    op.drop_table('reminder_digest')
    with op.batch_alter_table('reminder_schedule', schema=None) as batch_op:
        batch_op.drop_index('ix_reminder_schedule_next')
    op.drop_table('reminder_schedule')
    with op.batch_alter_table('reminder_contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_contact_agency_id'))
    op.drop_table('reminder_contact')
