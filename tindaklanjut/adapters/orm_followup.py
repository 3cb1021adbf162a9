"""Tables of the follow-up lifecycle: users, audit trail, evidence, requests, cycle reports."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from tindaklanjut.adapters.orm import _ts


class UserRow(SQLModel, table=True):
    __tablename__ = "app_user"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    role: str
    agency_id: str | None = Field(default=None, index=True)
    region: str | None = None
    token_hash: str = Field(unique=True)
    created_at: datetime = _ts()
    expires_at: datetime | None = _ts(nullable=True)
    revoked_at: datetime | None = _ts(nullable=True)
    password_hash: str | None = None
    disabled_at: datetime | None = _ts(nullable=True)
    failed_logins: int = Field(default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0"))
    locked_until: datetime | None = _ts(nullable=True)


class WebSessionRow(SQLModel, table=True):
    __tablename__ = "web_session"
    token_hash: str = Field(primary_key=True)
    user_name: str = Field(index=True)
    csrf_token: str
    created_at: datetime = _ts()
    expires_at: datetime = _ts()


class AuditEntryRow(SQLModel, table=True):
    """Append-only: nothing in the application updates or deletes these rows."""

    __tablename__ = "audit_entry"
    id: int | None = Field(default=None, primary_key=True)
    recommendation_id: str = Field(index=True)
    action: str
    actor: str
    role: str
    from_status: str
    to_status: str
    comment: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    evidence: list = Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False))
    details: dict = Field(default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False))
    at: datetime = _ts()


class EvidenceRow(SQLModel, table=True):
    """Every upload is a new version; files are stored by content hash and never overwritten."""

    __tablename__ = "evidence"
    __table_args__ = (sa.UniqueConstraint("recommendation_id", "version", name="uq_evidence_version"),)
    id: int | None = Field(default=None, primary_key=True)
    recommendation_id: str = Field(index=True)
    version: int
    kind: str                      # file | link
    filename: str | None = None
    media_type: str | None = None
    size: int | None = None
    sha256: str | None = None
    url: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    description: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    uploaded_by: str
    uploaded_at: datetime = _ts()


class FollowUpRequestRow(SQLModel, table=True):
    __tablename__ = "followup_request"
    id: str = Field(primary_key=True)
    recommendation_id: str = Field(index=True)
    kind: str
    requested_by: str
    requested_at: datetime = _ts()
    reason: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    reason_code: str | None = None
    new_due_date: date | None = None
    status: str = Field(index=True)
    decided_by: str | None = None
    decided_at: datetime | None = _ts(nullable=True)
    decision_comment: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))


class CycleReportRow(SQLModel, table=True):
    __tablename__ = "cycle_report"
    __table_args__ = (sa.UniqueConstraint("framework", "cycle", name="uq_cycle_report"),)
    id: int | None = Field(default=None, primary_key=True)
    framework: str
    cycle: str
    closed_at: datetime = _ts()
    closed_by: str
    report: dict = Field(sa_column=sa.Column(sa.JSON, nullable=False))
