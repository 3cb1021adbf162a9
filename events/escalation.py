"""`tindaklanjut.recommendation.escalated.v1`: an overdue recommendation
reached the next rung of the escalation ladder (Bagian Organisasi, then Sekda
and Inspektorat, then the head of region).

Published once per (recommendation, ladder step, deadline), when the step
first comes due in a delivery window, in the same transaction that plans
the reminders to the people named in `notified`.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from tindaklanjut.events.envelope import CloudEvent
from tindaklanjut.events.reminder import ContactRole

EVENT_TYPE = "tindaklanjut.recommendation.escalated.v1"


class Notified(BaseModel):
    model_config = ConfigDict(frozen=True)
    role: ContactRole
    name: str


class RecommendationEscalated(BaseModel):
    """Payload of `recommendation.escalated`."""

    model_config = ConfigDict(frozen=True)

    recommendation_id: str
    unit_id: str
    agency_id: str
    step: str = Field(description="Ladder step, e.g. T+1, T+7, T+30")
    level: int = Field(ge=1, description="1 Bagian Organisasi, 2 Sekda and Inspektorat, 3 head of region")
    roles: list[ContactRole] = Field(min_length=1, description="Who the step escalates to")
    notified: list[Notified] = Field(description="Contacts found for those roles (empty: none registered yet)")
    due_date: date
    due_at: AwareDatetime
    days_overdue: int
    escalated_at: AwareDatetime


class RecommendationEscalatedEvent(CloudEvent[RecommendationEscalated]):
    type: Literal[EVENT_TYPE]  # type: ignore[assignment]
