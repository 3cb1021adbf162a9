"""Tables for reminders and escalation (docs/reminders.md).

- `reminder_contact`: who holds which role for an agency or a unit.
- `reminder_schedule`: one row per recommendation, `next_at` = when the sweep
  should look at it again. A wake-up hint, never the truth: the sweep
  recomputes the ladder from the recommendation's current state.
- `reminder_digest`: one message per recipient per local day.
- `reminder_delivery`: one (recommendation, step, recipient), UNIQUE, in a digest.
- `reminder_escalation`: one `recommendation.escalated` per (recommendation, step).
- `reminder_attempt`: every try on a channel, with its outcome.
- `reminder_lock`: the row that serialises planners across processes.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from tindaklanjut.adapters.orm import UTCDateTime, _ts

# `next_at` of a schedule row whose recommendation changed or is new: due for
# any sweep, whatever instant it runs at.
DIRTY = datetime(1970, 1, 1, tzinfo=timezone.utc)
PLANNER_LOCK = "planner"


class ReminderContactRow(SQLModel, table=True):
    __tablename__ = "reminder_contact"
    __table_args__ = (sa.UniqueConstraint("agency_id", "unit_id", "role", name="uq_reminder_contact_role"),)
    id: int | None = Field(default=None, primary_key=True)
    agency_id: str = Field(index=True)
    unit_id: str = ""                      # "" = the whole agency
    role: str
    name: str
    email: str | None = None
    webhook_url: str | None = None
    updated_at: datetime = _ts()


class ReminderScheduleRow(SQLModel, table=True):
    __tablename__ = "reminder_schedule"
    __table_args__ = (sa.Index("ix_reminder_schedule_next", "next_at", "recommendation_id"),)
    recommendation_id: str = Field(sa_column=sa.Column(
        sa.String, sa.ForeignKey("recommendation.id", ondelete="CASCADE"), primary_key=True))
    basis_due_at: datetime = _ts()         # the deadline the row was computed for
    next_at: datetime | None = _ts(nullable=True)


class ReminderDigestRow(SQLModel, table=True):
    __tablename__ = "reminder_digest"
    __table_args__ = (sa.UniqueConstraint("recipient", "digest_date", name="uq_reminder_digest_day"),
                      sa.Index("ix_reminder_digest_status", "status", "id"))
    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(unique=True)          # idempotency key: Message-ID, webhook delivery id
    recipient: str                         # "email:<address>" or "webhook:<url>"
    channel: str
    address: str
    name: str
    digest_date: date
    zone: str
    status: str = "pending"                # pending | sending | retrying | sent | failed | cancelled
    claims: int = 0
    lease_owner: str | None = None
    lease_until: datetime | None = _ts(nullable=True)
    created_at: datetime = _ts()
    sent_at: datetime | None = _ts(nullable=True)
    last_error: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))


class ReminderDeliveryRow(SQLModel, table=True):
    __tablename__ = "reminder_delivery"
    __table_args__ = (sa.UniqueConstraint("recommendation_id", "step_key", "recipient",
                                          name="uq_reminder_delivery_once"),)
    id: int | None = Field(default=None, primary_key=True)
    recommendation_id: str
    step_key: str                          # "<step id>@<due date>"
    step: str
    offset_days: int
    recipient: str
    roles: str                             # comma-separated contact roles
    digest_id: int = Field(foreign_key="reminder_digest.id", index=True)
    status: str = "planned"                # planned | sent | failed | cancelled
    planned_at: datetime = _ts()
    sent_at: datetime | None = _ts(nullable=True)


class ReminderEscalationRow(SQLModel, table=True):
    __tablename__ = "reminder_escalation"
    recommendation_id: str = Field(primary_key=True)
    step_key: str = Field(primary_key=True)
    level: int
    escalated_at: datetime = _ts()


class ReminderAttemptRow(SQLModel, table=True):
    __tablename__ = "reminder_attempt"
    id: int | None = Field(default=None, primary_key=True)
    digest_id: int = Field(foreign_key="reminder_digest.id", index=True)
    channel: str
    attempt: int
    started_at: datetime = _ts()
    finished_at: datetime | None = _ts(nullable=True)
    outcome: str | None = None             # sent | retry | failed; empty = interrupted
    detail: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))


class ReminderLockRow(SQLModel, table=True):
    __tablename__ = "reminder_lock"
    name: str = Field(primary_key=True)
    owner: str | None = None
    acquired_at: datetime | None = _ts(nullable=True)


__all__ = ["DIRTY", "PLANNER_LOCK", "ReminderAttemptRow", "ReminderContactRow", "ReminderDeliveryRow",
           "ReminderDigestRow", "ReminderEscalationRow", "ReminderLockRow", "ReminderScheduleRow", "UTCDateTime"]
