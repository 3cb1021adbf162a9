"""`tindaklanjut.assessment.published.v1`: the fixed input contract.

Fields and rules follow ``shared/contract/README.md`` exactly; these models
only check structure and per-field ranges. Checks that need configuration
(known framework, a scale for the cycle, the overall score range) happen in
the service layer against the framework catalogue.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from tindaklanjut.events.envelope import CloudEvent

EVENT_TYPE = "tindaklanjut.assessment.published.v1"


class _Payload(BaseModel):
    # Unknown fields are ignored so evaluators can add fields without breaking us.
    model_config = ConfigDict(extra="ignore", frozen=True)


class AgencyKind(StrEnum):
    KEMENTERIAN = "kementerian"
    LEMBAGA = "lembaga"
    PEMPROV = "pemprov"
    PEMKAB = "pemkab"
    PEMKOT = "pemkot"
    POLRES = "polres"
    KANTOR_PERTANAHAN = "kantor_pertanahan"


class Evaluator(_Payload):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)


class Agency(_Payload):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    kind: AgencyKind


class Unit(_Payload):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    agency: Agency
    region_code: str = Field(pattern=r"^[0-9]{2}(\.[0-9]{2}){0,3}$")


class Indicator(_Payload):
    code: str = Field(min_length=1)
    name: str = Field(min_length=1)
    score: float = Field(ge=0)
    max_score: float = Field(gt=0)
    sp_component: int | None = Field(default=None, ge=1, le=14)
    finding: str | None = None

    @model_validator(mode="after")
    def _score_within_max(self) -> "Indicator":
        if self.score > self.max_score:
            raise ValueError(f"indicator {self.code}: score {self.score} exceeds max_score {self.max_score}")
        return self


class Aspect(_Payload):
    code: str = Field(min_length=1)
    name: str = Field(min_length=1)
    weight: float = Field(gt=0)
    score: float = Field(ge=0)
    max_score: float = Field(gt=0)
    indicators: list[Indicator]

    @model_validator(mode="after")
    def _score_within_max(self) -> "Aspect":
        if self.score > self.max_score:
            raise ValueError(f"aspect {self.code}: score {self.score} exceeds max_score {self.max_score}")
        return self


class AssessmentPublished(_Payload):
    """Payload of `assessment.published`: one unit's result in one cycle."""

    assessment_id: str = Field(min_length=1)
    revision: int = Field(ge=1)
    framework: str = Field(min_length=1)
    cycle: str = Field(pattern=r"^[0-9]{4}$")
    published_at: AwareDatetime
    follow_up_until: date | None = None
    evaluator: Evaluator
    unit: Unit
    score: float = Field(ge=0)
    grade: str | None = None
    aspects: list[Aspect] = Field(min_length=1)
    notes: list[str] = Field(default_factory=list)


class AssessmentPublishedEvent(CloudEvent[AssessmentPublished]):
    """The full CloudEvent carrying an assessment."""

    type: Literal[EVENT_TYPE]  # type: ignore[assignment]
