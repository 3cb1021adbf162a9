"""Hardening: merge the two 0003 heads; optimistic locking, parked outbox rows,
directory provenance, expiring and revocable tokens, idempotency keys and
broker epochs.

Revision ID: 0005_hardening
Revises: 0004_overdue_index, 0003_reminders
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from tindaklanjut.adapters.orm import UTCDateTime

revision: str = "0005_hardening"
down_revision: Union[str, Sequence[str], None] = ("0004_overdue_index", "0003_reminders")
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("recommendation") as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(sa.Column("parked_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("park_reason", sa.Text(), nullable=True))
    for table in ("unit", "agency"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("source_published_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("app_user") as batch_op:
        batch_op.add_column(sa.Column("expires_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("revoked_at", UTCDateTime(), nullable=True))
    op.create_table(
        "idempotency_key",
        sa.Column("key_hash", sa.String(), primary_key=True),
        sa.Column("method", sa.String(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("media_type", sa.String(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "broker_epoch",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("bootstrap", sa.String(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("lost_at", UTCDateTime(), nullable=True),
        sa.Column("republished", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("broker_epoch")
    op.drop_table("idempotency_key")
    with op.batch_alter_table("app_user") as batch_op:
        batch_op.drop_column("revoked_at")
        batch_op.drop_column("expires_at")
    for table in ("unit", "agency"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("source_published_at")
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_column("park_reason")
        batch_op.drop_column("parked_at")
    with op.batch_alter_table("recommendation") as batch_op:
        batch_op.drop_column("version")
