"""Domain model: assessments and the recommendations derived from them.

Plain Python, no I/O. Aggregates record domain events as they change; the
unit of work collects them and writes them to the outbox in the same
transaction as the state.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from tindaklanjut.domain import events

# Namespace for deterministic recommendation ids: the same weakness found
# again (a duplicate delivery, a revision) yields the same id.
RECOMMENDATION_NS = uuid.UUID("6f1d3b4e-8a1c-4c1e-9a57-1f0c2f0a7d11")


class Priority(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Status(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    CHANGES_REQUESTED = "changes_requested"
    VERIFIED = "verified"
    NOT_ACTIONABLE = "not_actionable"
    SUPERSEDED = "superseded"
    LAPSED = "lapsed"


CLOSED_STATUSES = frozenset({Status.VERIFIED, Status.NOT_ACTIONABLE, Status.SUPERSEDED, Status.LAPSED})


# What a newer revision of the same assessment may change on a recommendation.
REVISABLE_FIELDS = ("assessment_revision", "aspect_code", "indicator_name", "sp_component", "title", "action",
                    "evidence", "finding", "priority", "due_date", "due_at", "rule_id", "catalogue_version",
                    "template")


class Scope(StrEnum):
    UNIT = "unit"
    ASPECT = "aspect"
    INDICATOR = "indicator"


def recommendation_id(assessment_id: str, scope: Scope, code: str | None) -> str:
    return str(uuid.uuid5(RECOMMENDATION_NS, f"{assessment_id}|{scope}|{code or ''}"))


@dataclass
class Recommendation:
    id: str
    assessment_id: str
    assessment_revision: int
    framework: str
    cycle: str
    unit_id: str
    agency_id: str
    scope: Scope
    aspect_code: str | None
    indicator_code: str | None
    sp_component: int | None
    title: str
    action: str
    finding: str | None
    priority: Priority
    due_date: date
    due_at: datetime
    rule_id: str
    issued_at: datetime
    indicator_name: str | None = None
    evidence: str = ""
    catalogue_version: str = ""
    template: str = ""
    carried_over_from: str | None = None
    status: Status = Status.OPEN
    events: list[events.Event] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def issue(cls, **fields) -> "Recommendation":
        """Create a new open recommendation and record that it was issued."""
        recommendation = cls(**fields)
        recommendation.events.append(events.RecommendationIssued(recommendation_id=recommendation.id,
                                                                 occurred_at=recommendation.issued_at))
        return recommendation

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES

    def revise(self, newer: "Recommendation") -> None:
        """A higher assessment revision still finds this weakness: keep the id
        and the status, take the new wording, priority and deadline."""
        for name in REVISABLE_FIELDS:
            setattr(self, name, getattr(newer, name))

    def supersede(self, at: datetime) -> None:
        """A higher revision no longer finds this weakness."""
        if self.is_closed:
            return
        self.status = Status.SUPERSEDED
        self.events.append(events.RecommendationSuperseded(recommendation_id=self.id, occurred_at=at))


@dataclass
class Assessment:
    """One revision of one unit's assessment result in one cycle."""

    assessment_id: str
    revision: int
    framework: str
    cycle: str
    unit_id: str
    agency_id: str
    score: float
    official_grade: str | None
    computed_grade: str
    published_at: datetime
    follow_up_until: date
    source: str
    event_id: str

    @property
    def grade_mismatch(self) -> bool:
        return self.official_grade is not None and self.official_grade != self.computed_grade

    @property
    def grade(self) -> str:
        """The official grade wins when given (contract rule)."""
        return self.official_grade or self.computed_grade
