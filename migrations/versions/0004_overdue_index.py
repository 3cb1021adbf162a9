"""Index for region views: (agency_id, status, due_at) replaces (agency_id, status).

Revision ID: 0004_overdue_index
Revises: 0003_followup
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0004_overdue_index"
down_revision: Union[str, None] = "0003_followup"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("recommendation") as batch_op:
        batch_op.drop_index("ix_recommendation_agency_status")
        batch_op.create_index("ix_recommendation_agency_status_due", ["agency_id", "status", "due_at"])


def downgrade() -> None:
    with op.batch_alter_table("recommendation") as batch_op:
        batch_op.drop_index("ix_recommendation_agency_status_due")
        batch_op.create_index("ix_recommendation_agency_status", ["agency_id", "status"])
