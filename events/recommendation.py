"""`tindaklanjut.recommendation.issued.v1`: one improvement recommendation.

Published through the outbox once the recommendation is committed. Keyed by
unit id like every event about a unit.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from tindaklanjut.events.envelope import CloudEvent

EVENT_TYPE = "tindaklanjut.recommendation.issued.v1"

Priority = Literal["high", "medium", "low"]


class UnitRef(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    name: str
    region_code: str


class AgencyRef(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    name: str
    kind: str


class RecommendationIssued(BaseModel):
    """Payload of `recommendation.issued`."""

    model_config = ConfigDict(frozen=True)

    recommendation_id: str = Field(description="Stable id; a revision that still finds the weakness keeps it")
    assessment_id: str
    assessment_revision: int = Field(ge=1)
    framework: str
    cycle: str
    unit: UnitRef
    agency: AgencyRef
    scope: Literal["unit", "aspect", "indicator"]
    aspect_code: str | None
    indicator_code: str | None = Field(description="null for unit- and aspect-level recommendations")
    sp_component: int | None = Field(default=None, ge=1, le=14)
    indicator_name: str | None = None
    title: str = Field(description="Short title in Bahasa Indonesia")
    action: str = Field(description="What the agency must do, in Bahasa Indonesia")
    evidence: str = Field(description="What will prove it done (bukti dukung), in Bahasa Indonesia")
    finding: str | None = Field(description="The evaluator's finding, quoted")
    priority: Priority
    due_date: date
    due_at: AwareDatetime = Field(description="End of the due date, 23:59 local time of the unit's region")
    status: Literal["open"]
    rule_id: str = Field(description="The weakness rule that produced it")
    catalogue_version: str = Field(description="Version of the recommendation catalogue used")
    carried_over_from: str | None = Field(default=None, description="Open recommendation of an earlier cycle "
                                                                    "for the same unit and indicator")
    issued_at: AwareDatetime


class RecommendationIssuedEvent(CloudEvent[RecommendationIssued]):
    """The full CloudEvent carrying a recommendation."""

    type: Literal[EVENT_TYPE]  # type: ignore[assignment]
