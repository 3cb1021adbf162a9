"""`tindaklanjut.followup.changed.v1`: one change in a recommendation's
follow-up (an action, evidence, a submission, a verification, a request or
its decision, a lapse). Each one is also an entry of the audit trail."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from tindaklanjut.events.envelope import CloudEvent

EVENT_TYPE = "tindaklanjut.followup.changed.v1"


class FollowUpChanged(BaseModel):
    model_config = ConfigDict(frozen=True)

    recommendation_id: str
    unit_id: str
    agency_id: str
    action: str = Field(description="action_recorded, evidence_added, submitted, verified, changes_requested, "
                                    "not_actionable_requested|approved|rejected, extension_requested|approved|"
                                    "rejected, lapsed")
    actor: str
    role: str
    from_status: str
    to_status: str
    comment: str | None = None
    evidence_sha256: list[str] = Field(default_factory=list, description="hashes only, never contents")
    details: dict = Field(default_factory=dict)
    at: AwareDatetime


class FollowUpChangedEvent(CloudEvent[FollowUpChanged]):
    """The full CloudEvent carrying a follow-up change."""

    type: Literal[EVENT_TYPE]  # type: ignore[assignment]
