"""followup lifecycle

Revision ID: 0003_followup
Revises: 0002
Create Date: 2026-11-22 14:21:23.375762
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
import tindaklanjut.adapters.orm


revision: str = '0003_followup'
down_revision: Union[str, None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('app_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('agency_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('region', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', tindaklanjut.adapters.orm.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_app_user_agency_id'), ['agency_id'], unique=False)

    op.create_table('audit_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recommendation_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('from_status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('to_status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('at', tindaklanjut.adapters.orm.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entry_recommendation_id'), ['recommendation_id'], unique=False)

    op.create_table('cycle_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('framework', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('cycle', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('closed_at', tindaklanjut.adapters.orm.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('report', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('framework', 'cycle', name='uq_cycle_report')
    )
    op.create_table('evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recommendation_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('media_type', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('size', sa.Integer(), nullable=True),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('uploaded_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('uploaded_at', tindaklanjut.adapters.orm.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('recommendation_id', 'version', name='uq_evidence_version')
    )
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_recommendation_id'), ['recommendation_id'], unique=False)

    op.create_table('followup_request',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('recommendation_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('requested_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('requested_at', tindaklanjut.adapters.orm.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('reason_code', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('new_due_date', sa.Date(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('decided_at', tindaklanjut.adapters.orm.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_comment', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('followup_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_followup_request_recommendation_id'), ['recommendation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_followup_request_status'), ['status'], unique=False)

    with op.batch_alter_table('recommendation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('indicator_score', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('indicator_max_score', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('had_action', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('extended', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('verified_at', tindaklanjut.adapters.orm.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('next_assessment_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('next_score_ratio', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('score_change', sa.Float(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('recommendation', schema=None) as batch_op:
        batch_op.drop_column('score_change')
        batch_op.drop_column('next_score_ratio')
        batch_op.drop_column('next_assessment_id')
        batch_op.drop_column('verified_at')
        batch_op.drop_column('extended')
        batch_op.drop_column('had_action')
        batch_op.drop_column('indicator_max_score')
        batch_op.drop_column('indicator_score')

    with op.batch_alter_table('followup_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_followup_request_status'))
        batch_op.drop_index(batch_op.f('ix_followup_request_recommendation_id'))

    op.drop_table('followup_request')
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_recommendation_id'))

    op.drop_table('evidence')
    op.drop_table('cycle_report')
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entry_recommendation_id'))

    op.drop_table('audit_entry')
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_app_user_agency_id'))

    op.drop_table('app_user')
