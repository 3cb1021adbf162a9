"""Domain model: assessments and the recommendations derived from them.

Plain Python, no I/O. Aggregates record domain events as they change; the
unit of work collects them and writes them to the outbox in the same
transaction as the state.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from tindaklanjut.domain import ids
from tindaklanjut.domain import events, labels
from tindaklanjut.domain.lifecycle import (CLOSED_STATUSES, PERFORMED_BY, TRANSITIONS, Action, Actor, DomainError,
                                           IllegalTransition, NotPermitted, Role, Status)
from tindaklanjut.domain.plans import ActionPlan, PlanStatus

# Namespace for deterministic recommendation ids: the same weakness found
# again (a duplicate delivery, a revision) yields the same id.
RECOMMENDATION_NS = uuid.UUID("6f1d3b4e-8a1c-4c1e-9a57-1f0c2f0a7d11")


class Priority(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


# What a newer revision of the same assessment may change on a recommendation.
REVISABLE_FIELDS = ("assessment_revision", "aspect_code", "indicator_name", "sp_component", "title", "action",
                    "evidence", "finding", "priority", "due_date", "due_at", "rule_id", "catalogue_version",
                    "template")


class Scope(StrEnum):
    UNIT = "unit"
    ASPECT = "aspect"
    INDICATOR = "indicator"


def recommendation_id(assessment_id: str, scope: Scope, code: str | None) -> str:
    return ids.name_based(RECOMMENDATION_NS, f"{assessment_id}|{scope}|{code or ''}")


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
    indicator_score: float | None = None
    indicator_max_score: float | None = None
    had_action: bool = False
    extended: bool = False
    needs_plan: bool = False          # the work needs a budget or construction: a rencana aksi comes first
    plan: ActionPlan | None = None
    status: Status = Status.OPEN
    version: int = 1     # the stored row's version this object was read at (optimistic locking)
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
            if (self.extended or self.plan_accepted) and name in ("due_date", "due_at"):
                continue   # an approved extension or plan outlives corrections of the assessment
            setattr(self, name, getattr(newer, name))

    def change(self, action: Action, *, actor: Actor, at: datetime, comment: str | None = None,
               evidence: tuple[str, ...] = (), details: dict | None = None) -> None:
        """Apply one follow-up action, enforcing who may do it and from which status."""
        allowed_from, target = TRANSITIONS[action]
        if actor.role is not Role.ADMIN and actor.role not in PERFORMED_BY[action]:
            raise NotPermitted(f"peran {labels.role(actor.role)} tidak berwenang {labels.action(action)}")
        if self.status not in allowed_from:
            raise IllegalTransition(f"tidak dapat {labels.action(action)} pada rekomendasi berstatus "
                                    f"{labels.status(self.status)} ({self.status.value})")
        if action is Action.REQUEST_CHANGES and not (comment and comment.strip()):
            raise DomainError("permintaan perbaikan wajib disertai komentar")
        before = self.status
        if target is not None:
            self.status = target
        if action in (Action.RECORD_ACTION, Action.SUBMIT, Action.SUBMIT_PLAN, Action.COMPLETE_MILESTONE):
            self.had_action = True
        self.events.append(events.FollowUpChanged(
            recommendation_id=self.id, action=action.value, actor=actor.name, role=actor.role.value,
            from_status=before.value, to_status=self.status.value, comment=comment, evidence=evidence,
            details=details or {}, occurred_at=at))

    def submit(self, *, actor: Actor, at: datetime, evidence_count: int, comment: str | None = None) -> None:
        if self.needs_plan and not self.plan_accepted:
            raise DomainError("ajukan rencana aksi dan tunggu persetujuannya sebelum mengajukan penyelesaian")
        if evidence_count < 1:
            raise DomainError("unggah bukti dukung sebelum mengajukan penyelesaian")
        self.change(Action.SUBMIT, actor=actor, at=at, comment=comment)

    # ---------------------------------------------------------------- rencana aksi (domain.plans)
    @property
    def plan_accepted(self) -> bool:
        return self.plan is not None and self.plan.status is PlanStatus.ACCEPTED

    def submit_plan(self, plan: ActionPlan, *, actor: Actor, at: datetime) -> None:
        if not self.needs_plan:
            raise DomainError("saran ini tidak memerlukan rencana aksi")
        if self.plan_accepted:
            raise IllegalTransition("rencana aksi sudah disetujui")
        if self.plan is not None and self.plan.status is PlanStatus.RETURNED:
            plan.history = [*self.plan.history, self.plan.as_dict() | {"history": []}]
        self.change(Action.SUBMIT_PLAN, actor=actor, at=at, details={
            "budget_source": plan.budget_source.value, "milestones": len(plan.milestones),
            "last_target": plan.milestones[-1].target_date.isoformat()})
        self.plan = plan

    def decide_plan(self, *, accept: bool, actor: Actor, at: datetime, comment: str | None,
                    due_on: Callable[[date], tuple[date, datetime]]) -> None:
        """Accept (the deadline becomes the first milestone's target) or return with a comment."""
        if self.plan is None or self.plan.status is not PlanStatus.SUBMITTED:
            raise IllegalTransition("tidak ada rencana aksi yang menunggu keputusan")
        if not accept and not (comment and comment.strip()):
            raise DomainError("pengembalian rencana aksi wajib disertai catatan")
        self.change(Action.ACCEPT_PLAN if accept else Action.RETURN_PLAN, actor=actor, at=at, comment=comment)
        self.plan.status = PlanStatus.ACCEPTED if accept else PlanStatus.RETURNED
        self.plan.decided_by, self.plan.decided_at, self.plan.decision_comment = actor.name, at, comment
        if accept:
            self.due_date, self.due_at = due_on(self.plan.deadline)

    def complete_milestone(self, seq: int, *, actor: Actor, at: datetime, comment: str | None,
                           due_on: Callable[[date], tuple[date, datetime]]) -> None:
        """A milestone is done: the deadline moves to the next open one."""
        if not self.plan_accepted:
            raise IllegalTransition("rencana aksi belum disetujui")
        milestone = next((m for m in self.plan.milestones if m.seq == seq), None)
        if milestone is None:
            raise DomainError(f"tahap {seq} tidak ada dalam rencana aksi")
        if milestone.done_at is not None:
            raise IllegalTransition(f"tahap {seq} sudah ditandai selesai")
        self.change(Action.COMPLETE_MILESTONE, actor=actor, at=at, comment=comment,
                    details={"milestone": seq, "description": milestone.description})
        milestone.done_at, milestone.done_by = at, actor.name
        self.due_date, self.due_at = due_on(self.plan.deadline)

    def extend(self, *, actor: Actor, at: datetime, due_date: date, due_at: datetime, comment: str | None,
               request_id: str) -> None:
        """An approved extension: new deadline, reminders follow it."""
        previous = self.due_date
        self.change(Action.APPROVE_EXTENSION, actor=actor, at=at, comment=comment,
                    details={"request_id": request_id, "previous_due_date": previous.isoformat(),
                             "due_date": due_date.isoformat()})
        self.due_date, self.due_at = due_date, due_at
        self.extended = True

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
