"""Web accounts: passwords, disabled accounts, failed-login lockout, browser sessions.

Revision ID: 0006_web_accounts
Revises: 0005_hardening
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from tindaklanjut.adapters.orm import UTCDateTime

revision: str = "0006_web_accounts"
down_revision: Union[str, Sequence[str], None] = "0005_hardening"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("app_user") as batch_op:
        batch_op.add_column(sa.Column("password_hash", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("disabled_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("locked_until", UTCDateTime(), nullable=True))
    op.create_table(
        "web_session",
        sa.Column("token_hash", sa.String(), primary_key=True),
        sa.Column("user_name", sa.String(), nullable=False),
        sa.Column("csrf_token", sa.String(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_web_session_user_name", "web_session", ["user_name"])


def downgrade() -> None:
    op.drop_index("ix_web_session_user_name", table_name="web_session")
    op.drop_table("web_session")
    with op.batch_alter_table("app_user") as batch_op:
        for column in ("locked_until", "failed_logins", "disabled_at", "password_hash"):
            batch_op.drop_column(column)
