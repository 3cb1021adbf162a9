"""`tindaklanjut.assessment.published.v1`: the fixed input contract.

Fields and rules follow ``shared/contract/README.md`` exactly; these models
only check structure and per-field ranges. Checks that need configuration
(known framework, a scale for the cycle, the overall score range) happen in
the service layer against the framework catalogue.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from typing_extensions import TypedDict

from tindaklanjut.events.envelope import CloudEvent, Identifier, Name, SaneDate, SaneDatetime

EVENT_TYPE = "tindaklanjut.assessment.published.v1"


# Numbers are JSON numbers (a score sent as a string is refused), finite and
# within what both databases store.
MAX_SCORE = 1_000_000.0
MAX_REVISION = 2**31 - 1
Score = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=MAX_SCORE)]
PositiveScore = Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0, le=MAX_SCORE)]
Text = Annotated[str, Field(max_length=10_000)]
MAX_ITEMS = 10_000     # a hard cap per list; the configured total (default 500) is checked on parsing


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
    id: Identifier
    name: Name


class Agency(_Payload):
    id: Identifier
    name: Name
    kind: AgencyKind


NATIONAL_REGION = "00"     # a ministry's or national agency's unit with no region: Jakarta time, no province
NATIONAL_KINDS = frozenset({AgencyKind.KEMENTERIAN, AgencyKind.LEMBAGA})


class Unit(_Payload):
    id: Identifier
    name: Name
    agency: Agency
    region_code: str | None = Field(
        default=None, pattern=r"^[0-9]{2}(\.[0-9]{2}){0,3}$",
        description="Kemendagri region code; ministries and national agencies may omit it (stored as "
                    f"{NATIONAL_REGION!r}, Jakarta time)")

    @model_validator(mode="after")
    def _region_or_national(self) -> "Unit":
        if self.region_code is None:
            if self.agency.kind not in NATIONAL_KINDS:
                raise ValueError("region_code is required for a regional government's unit "
                                 "(only kementerian and lembaga may omit it)")
            object.__setattr__(self, "region_code", NATIONAL_REGION)
        return self


# One indicator's result. A typed dict, not a model: a real assessment carries 30 or more, and building
# a model instance for each was a third of validating an event (docs/benchmarks.md, series K). Read it
# by key (`indicator["score"]`); the optional fields are always present (None when not sent).
class Indicator(TypedDict):
    __pydantic_config__ = ConfigDict(extra="ignore")   # type: ignore[misc]
    code: Identifier
    name: Name
    score: Score
    max_score: PositiveScore
    sp_component: Annotated[int | None, Field(default=None, strict=True, ge=1, le=14)]
    finding: Annotated[Text | None, Field(default=None)]


def _score_within_max(indicator: Indicator) -> Indicator:
    if indicator["score"] > indicator["max_score"]:
        raise ValueError(f"indicator {indicator['code']}: score {indicator['score']} exceeds max_score "
                         f"{indicator['max_score']}")
    return indicator


CheckedIndicator = Annotated[Indicator, AfterValidator(_score_within_max)]


class Aspect(_Payload):
    code: Identifier
    name: Name
    weight: PositiveScore
    score: Score
    max_score: PositiveScore
    indicators: list[CheckedIndicator] = Field(max_length=MAX_ITEMS)

    @model_validator(mode="after")
    def _score_within_max(self) -> "Aspect":
        if self.score > self.max_score:
            raise ValueError(f"aspect {self.code}: score {self.score} exceeds max_score {self.max_score}")
        return self


class AssessmentPublished(_Payload):
    """Payload of `assessment.published`: one unit's result in one cycle."""

    assessment_id: Identifier
    revision: int = Field(strict=True, ge=1, le=MAX_REVISION)
    framework: Identifier
    cycle: str = Field(pattern=r"^[0-9]{4}$")
    published_at: SaneDatetime
    follow_up_until: SaneDate | None = None
    evaluator: Evaluator
    unit: Unit
    score: Score
    grade: Annotated[str, Field(max_length=10)] | None = None
    aspects: list[Aspect] = Field(min_length=1, max_length=MAX_ITEMS)
    notes: list[Text] = Field(default_factory=list, max_length=100)
    # Frameworks that publish an opinion (ombudsman-opini, 2025 onward):
    opinion: Annotated[str, Field(min_length=1, max_length=200,
                                  description="e.g. `Kualitas Sedang`")] | None = None
    without_maladministration: bool | None = Field(
        default=None, description="the qualifier *Tanpa Maladministrasi* was given")
    report_ref: Annotated[str, Field(min_length=1, max_length=200,
                                     description="the evaluator's report reference: nomor LHP, rapor or keputusan")
                          ] | None = None


class AssessmentPublishedEvent(CloudEvent[AssessmentPublished]):
    """The full CloudEvent carrying an assessment."""

    type: Literal[EVENT_TYPE]  # type: ignore[assignment]
