"""Cycle events.

- `tindaklanjut.cycle.closed.v1` (input): an evaluator closes a framework's
  cycle. Every recommendation of that cycle still open lapses, and the cycle
  report is stored.
- `tindaklanjut.cycle.reported.v1` (output): the report, published once when
  the cycle closes. See docs/cycle-report.md for how to read it.

Both are keyed by ``<framework>/<cycle>``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from tindaklanjut.events.envelope import CloudEvent

CLOSED_EVENT_TYPE = "tindaklanjut.cycle.closed.v1"
REPORTED_EVENT_TYPE = "tindaklanjut.cycle.reported.v1"


class CycleClosed(BaseModel):
    """Payload of `cycle.closed`."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    framework: str = Field(min_length=1, description="e.g. `ombudsman-kepatuhan`, `panrb-pekppp`")
    cycle: str = Field(pattern=r"^[0-9]{4}$")
    closed_by: str | None = Field(default=None, description="who closed it (recorded in the audit trail); "
                                                            "defaults to the event source")


class CycleClosedEvent(CloudEvent[CycleClosed]):
    """The full CloudEvent closing a cycle."""

    type: Literal[CLOSED_EVENT_TYPE]  # type: ignore[assignment]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BpkCounts(_Strict):
    sesuai: int
    belum_sesuai: int
    belum_ditindaklanjuti: int
    tidak_dapat_ditindaklanjuti: int


class AgeCounts(_Strict):
    """Overdue items the agency still owed, by days past the due date."""

    days_1_30: int
    days_31_60: int
    days_61_90: int
    days_over_90: int


class Tally(_Strict):
    total: int = Field(description="every recommendation of the cycle, superseded included")
    superseded: int = Field(description="replaced by a later revision; not counted anywhere else")
    counted: int = Field(description="total - superseded: the denominator of the rates")
    verified: int
    not_actionable: int
    lapsed: int = Field(description="not closed when the cycle closed")
    open: int = Field(description="still open (provisional reports only)")
    owed: int = Field(description="the agency still owed work at the report time (open, in progress, changes "
                                  "requested)")
    awaiting_verification: int = Field(description="submitted, no evaluator decision at the report time")
    completion_rate: float | None = Field(description="verified / counted")
    resolution_rate: float | None = Field(description="(verified + not_actionable) / counted")
    days_to_verification_total: float
    days_to_verification_n: int
    mean_days_to_verification: float | None = Field(description="mean days from issue to verification")
    bpk: BpkCounts
    overdue: AgeCounts


class AgencyTally(Tally):
    agency_id: str
    agency_name: str
    region_code: str


class RegionTally(Tally):
    region_code: str


class BpkShare(_Strict):
    status: Literal["sesuai", "belum_sesuai", "belum_ditindaklanjuti", "tidak_dapat_ditindaklanjuti"]
    label: str
    count: int
    share: float | None = Field(description="count / counted")


class AgeBucket(_Strict):
    bucket: Literal["days_1_30", "days_31_60", "days_61_90", "days_over_90"]
    label: str
    count: int


class ScoreGroup(_Strict):
    n: int = Field(description="recommendations whose indicator was scored again in a later cycle")
    mean: float | None = Field(description="mean change of score / max_score (next cycle minus this cycle)")


class ScoreComparison(_Strict):
    verified: ScoreGroup
    lapsed: ScoreGroup
    difference: float | None = Field(description="verified.mean - lapsed.mean")
    as_of: AwareDatetime = Field(description="when the comparison was computed; it grows as later cycles arrive")


class CycleReport(_Strict):
    """Payload of `cycle.reported`, and the body of the report endpoint."""

    framework: str
    cycle: str
    status: Literal["closed", "provisional"]
    as_of: AwareDatetime = Field(description="when the cycle closed (or, provisional, when computed)")
    closed_by: str | None
    region: str | None = Field(description="set when the report is restricted to one region's agencies")
    totals: Tally
    agencies: list[AgencyTally]
    regions: list[RegionTally] = Field(description="by the agency's region code")
    provinces: list[RegionTally] = Field(description="by province (first segment of the region code)")
    bpk: list[BpkShare] = Field(description="BPK four-way breakdown (Peraturan BPK 2/2017)")
    overdue: list[AgeBucket] = Field(description="items the agency still owed, by days overdue at the report time")
    score_change: ScoreComparison


class CycleReportedEvent(CloudEvent[CycleReport]):
    """The full CloudEvent carrying a cycle report."""

    type: Literal[REPORTED_EVENT_TYPE]  # type: ignore[assignment]
