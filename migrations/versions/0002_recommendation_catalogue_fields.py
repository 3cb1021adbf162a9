"""recommendation catalogue fields

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 14:15:07.657741
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
import tindaklanjut.adapters.orm


revision: str = '0002'
down_revision: Union[str, None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('recommendation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('catalogue_version', sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('template', sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('indicator_name', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('evidence', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('carried_over_from', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.create_index(batch_op.f('ix_recommendation_carried_over_from'), ['carried_over_from'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('recommendation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recommendation_carried_over_from'))
        batch_op.drop_column('carried_over_from')
        batch_op.drop_column('evidence')
        batch_op.drop_column('indicator_name')
        batch_op.drop_column('template')
        batch_op.drop_column('catalogue_version')

