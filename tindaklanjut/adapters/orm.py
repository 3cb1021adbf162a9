"""SQLModel tables: the system of record.

Domain objects are plain dataclasses; the repositories map them to and from
these rows. Timestamps are stored in UTC and always read back timezone-aware.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused; pass a timezone-aware value")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def region_clause(column: Any, region: str) -> Any:
    """SQL for `lifecycle.in_region`: the column's region is `region` or below it."""
    return sa.or_(column == region, column.startswith(region + ".", autoescape=True))


def _ts(*, nullable: bool = False, index: bool = False) -> Any:
    return Field(sa_column=sa.Column(UTCDateTime(), nullable=nullable, index=index))


class AgencyRow(SQLModel, table=True):
    __tablename__ = "agency"
    id: str = Field(primary_key=True)
    name: str
    kind: str
    region_code: str
    # `published_at` of the assessment that last named this agency: an older one never renames it.
    source_published_at: datetime | None = _ts(nullable=True)


class UnitRow(SQLModel, table=True):
    __tablename__ = "unit"
    id: str = Field(primary_key=True)
    name: str
    agency_id: str = Field(foreign_key="agency.id", index=True)
    region_code: str
    source_published_at: datetime | None = _ts(nullable=True)


class AssessmentRow(SQLModel, table=True):
    __tablename__ = "assessment"
    assessment_id: str = Field(primary_key=True)
    revision: int = Field(primary_key=True)
    framework: str
    cycle: str
    unit_id: str = Field(foreign_key="unit.id", index=True)
    agency_id: str = Field(foreign_key="agency.id", index=True)
    score: float
    official_grade: str | None = None
    computed_grade: str
    grade_mismatch: bool = False
    published_at: datetime = _ts()
    follow_up_until: date
    source: str
    event_id: str
    payload: dict = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    received_at: datetime = _ts()


class RecommendationFields(SQLModel):
    """What every reader of a recommendation sees: the table and the API's read shape
    (`api.models.RecommendationOut`) both derive from this one list."""

    id: str = Field(primary_key=True)
    assessment_id: str = Field(index=True)
    framework: str
    cycle: str
    unit_id: str = Field(foreign_key="unit.id", index=True)
    agency_id: str = Field(foreign_key="agency.id")
    scope: str
    aspect_code: str | None = None
    indicator_code: str | None = None
    indicator_name: str | None = None
    title: str
    action: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    evidence: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    finding: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    priority: str
    status: str
    due_date: date
    due_at: datetime = _ts()
    carried_over_from: str | None = Field(default=None, index=True)
    # Filled when the unit's next-cycle assessment arrives: did the indicator improve?
    score_change: float | None = None
    needs_plan: bool = Field(default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false()),
                             description="Memerlukan rencana aksi lebih dulu (anggaran/konstruksi)")


class RecommendationRow(RecommendationFields, table=True):
    __tablename__ = "recommendation"
    __table_args__ = (
        # Region views (overdue per province) walk the few agencies of a region, then this index.
        sa.Index("ix_recommendation_agency_status_due", "agency_id", "status", "due_at"),
        sa.Index("ix_recommendation_status_due", "status", "due_at"),
        # An agency's list, soonest deadline first, a page at a time.
        sa.Index("ix_recommendation_agency_due", "agency_id", "due_at", "id"),
    )
    assessment_revision: int
    sp_component: int | None = None
    rule_id: str
    catalogue_version: str
    template: str
    indicator_score: float | None = None
    indicator_max_score: float | None = None
    had_action: bool = False
    extended: bool = False
    action_plan: dict | None = Field(default=None, sa_column=sa.Column(sa.JSON, nullable=True))
    verified_at: datetime | None = _ts(nullable=True)
    next_assessment_id: str | None = None
    next_score_ratio: float | None = None
    issued_at: datetime = _ts()
    updated_at: datetime = _ts()
    # Optimistic locking: every change checks and bumps it, so two decisions cannot both win.
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})


class ProcessedEventRow(SQLModel, table=True):
    """De-duplication keys: CloudEvents (source, id) already handled."""

    __tablename__ = "processed_event"
    source: str = Field(primary_key=True)
    event_id: str = Field(primary_key=True)
    event_type: str
    processed_at: datetime = _ts()
    outcome: str  # processed | duplicate_revision
    redeliveries: int = 0


class OutboxRow(SQLModel, table=True):
    """Messages written in the same transaction as the state; relayed to Kafka."""

    __tablename__ = "outbox"
    __table_args__ = (sa.Index("ix_outbox_unpublished", "published_at", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    topic: str
    key: str | None = None
    event_type: str
    event_id: str
    value: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False))
    headers: list = Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False))
    created_at: datetime = _ts()
    published_at: datetime | None = _ts(nullable=True)
    # A row the broker refuses for good (too large, cannot be serialised) is parked, not retried.
    parked_at: datetime | None = _ts(nullable=True)
    park_reason: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))


class DeadLetterRow(SQLModel, table=True):
    """An input that could not be processed, with its reason and original bytes."""

    __tablename__ = "dead_letter"
    __table_args__ = (sa.UniqueConstraint("topic", "partition", "offset", "sha256", name="uq_dead_letter_origin"),)
    id: int | None = Field(default=None, primary_key=True)
    topic: str
    partition: int
    offset: int
    sha256: str
    reason_code: str = Field(index=True)
    reason: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    errors: list = Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False))
    raw: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False))
    received_at: datetime = _ts()


class SettingRow(SQLModel, table=True):
    """Small key/value facts about this installation (e.g. sample data loaded)."""

    __tablename__ = "installation_setting"
    key: str = Field(primary_key=True)
    value: str


class IdempotencyKeyRow(SQLModel, table=True):
    """An API write made with an `Idempotency-Key`: its answer, replayed for a repeat."""

    __tablename__ = "idempotency_key"
    key_hash: str = Field(primary_key=True)    # sha256(credential, key)
    method: str
    path: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    status_code: int | None = None             # None while the first request is still running
    body: bytes | None = Field(default=None, sa_column=sa.Column(sa.LargeBinary, nullable=True))
    media_type: str | None = None
    created_at: datetime = _ts()


class BrokerEpochRow(SQLModel, table=True):
    """One life of a broker whose storage does not survive a restart (the embedded one)."""

    __tablename__ = "broker_epoch"
    id: int | None = Field(default=None, primary_key=True)
    bootstrap: str
    started_at: datetime = _ts()
    lost_at: datetime | None = _ts(nullable=True)
    republished: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
