"""Domain events: frozen, keyword-only, past tense, with a UTC timestamp."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, kw_only=True)
class Event:
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True)
class RecommendationIssued(Event):
    recommendation_id: str


@dataclass(frozen=True, kw_only=True)
class RecommendationSuperseded(Event):
    recommendation_id: str


@dataclass(frozen=True, kw_only=True)
class FollowUpChanged(Event):
    """Anything that happened to a recommendation's follow-up: one audit entry."""

    recommendation_id: str
    action: str
    actor: str
    role: str
    from_status: str
    to_status: str
    comment: str | None = None
    evidence: tuple[str, ...] = ()
    details: dict | None = None
