"""`tindaklanjut.reminder.sent.v1`: one reminder delivered to one recipient.

One event per (recommendation, step, recipient) that went out in a digest,
published through the outbox when the digest is marked sent. The event id is
deterministic per delivery, so consumers de-duplicate on (source, id).
Addresses are not published; the recipient's role and name are.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from tindaklanjut.events.envelope import CloudEvent

EVENT_TYPE = "tindaklanjut.reminder.sent.v1"

ContactRole = Literal["unit_head", "organisasi", "sekda", "inspektorat", "kepala_daerah"]


class ReminderSent(BaseModel):
    """Payload of `reminder.sent`."""

    model_config = ConfigDict(frozen=True)

    recommendation_id: str
    unit_id: str
    agency_id: str
    step: str = Field(description="Ladder step, e.g. T-7, T0, T+7, T+37 (days from the due date)")
    due_date: date = Field(description="The deadline the step was computed for")
    days_overdue: int = Field(description="On the digest day; negative = days left")
    channel: Literal["email", "webhook"]
    recipient_roles: list[ContactRole] = Field(min_length=1)
    recipient_name: str
    digest_id: str = Field(description="Id of the digest message that carried it (Message-ID / webhook delivery id)")
    digest_date: date = Field(description="Local day of the digest")
    sent_at: AwareDatetime


class ReminderSentEvent(CloudEvent[ReminderSent]):
    type: Literal[EVENT_TYPE]  # type: ignore[assignment]
