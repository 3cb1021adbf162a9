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
