"""Request and response shapes of the HTTP API."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from tindaklanjut.adapters.orm import RecommendationFields
from tindaklanjut.domain.lifecycle import ReasonCode
from tindaklanjut.domain.plans import BudgetSource, Milestone


class Problem(BaseModel):
    """Every error: a code for programs and a message in Bahasa Indonesia for people."""

    code: str
    message: str


class RecommendationOut(RecommendationFields):
    """A recommendation as a reader sees it: its stored fields (one list, shared with the table)
    and what is computed for the reader's clock and region."""

    bpk_status: str | None
    days_overdue: int
    region_code: str | None = Field(default=None, description="Kode wilayah unit (zona waktu tenggat)")
    unit_name: str | None = None
    agency_name: str | None = None
    days_left: int | None = Field(default=None, description="Hari tersisa sampai tenggat (hanya yang masih terutang)")


class TimelineEntry(BaseModel):
    at: datetime
    action: str
    actor: str
    role: str
    from_status: str
    to_status: str
    comment: str | None
    evidence_sha256: list[str]
    details: dict


class EvidenceOut(BaseModel):
    version: int
    kind: str
    filename: str | None
    media_type: str | None
    size: int | None
    sha256: str | None
    url: str | None
    description: str | None
    uploaded_by: str
    uploaded_at: datetime


# A plan's milestones are answered as the domain keeps them (one field list, domain.plans.Milestone).
MilestoneOut = Milestone


class PlanOut(BaseModel):
    budget_source: str
    status: str
    submitted_by: str
    submitted_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_comment: str | None = None
    milestones: list[MilestoneOut]


class RecommendationDetail(RecommendationOut):
    timeline: list[TimelineEntry]
    evidence_versions: list[EvidenceOut]
    plan: PlanOut | None = None


class MilestoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str = Field(min_length=1, max_length=1000)
    responsible: str = Field(min_length=1, max_length=200)
    target_date: date


class PlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    budget_source: BudgetSource
    milestones: list[MilestoneIn] = Field(min_length=1, max_length=12)


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: str | None = Field(default=None, max_length=4000)


class RequiredCommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: str = Field(min_length=1, max_length=4000)


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: HttpUrl
    description: str | None = Field(default=None, max_length=1000)


class NotActionableIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason_code: ReasonCode
    explanation: str = Field(min_length=1, max_length=4000)


class ExtensionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    new_due_date: date
    reason: str = Field(min_length=1, max_length=4000)


class RequestOut(BaseModel):
    id: str
    recommendation_id: str
    kind: str
    status: str
    requested_by: str
    reason: str
    reason_code: str | None
    new_due_date: date | None
    decided_by: str | None
    decision_comment: str | None


class OverdueItem(BaseModel):
    id: str
    title: str
    indicator_code: str | None
    priority: str
    status: str
    due_date: date
    days_overdue: int
    framework: str | None = None
    cycle: str | None = None


class OverdueUnit(BaseModel):
    unit_id: str
    unit_name: str
    items: list[OverdueItem]


class OverdueAgency(BaseModel):
    agency_id: str
    agency_name: str
    region_code: str
    overdue: int
    units: list[OverdueUnit]


class AcceptedOut(BaseModel):
    accepted: bool
    topic: str
    key: str
