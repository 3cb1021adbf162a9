"""Rencana aksi: which saran needs an action plan first, and the plan with its milestones.

Revision ID: 0007_action_plans
Revises: 0006_web_accounts
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0007_action_plans"
down_revision: Union[str, Sequence[str], None] = "0006_web_accounts"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("recommendation") as batch_op:
        batch_op.add_column(sa.Column("needs_plan", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("action_plan", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("recommendation") as batch_op:
        batch_op.drop_column("action_plan")
        batch_op.drop_column("needs_plan")
