"""Follow-up lifecycle: who may move a recommendation where.

open -> in_progress (action recorded) -> submitted (claimed done, with
evidence) -> verified | changes_requested (back to the agency). Side paths:
not_actionable (requested by the agency with a reason code, decided by an
evaluator), deadline extensions (requested, decided; the requester never
decides their own request), superseded (revisions), lapsed (cycle closed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from tindaklanjut.domain import labels


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
# The agency still owes work: what is overdue, chased and counted as owed in reports.
OWED_STATUSES = frozenset({Status.OPEN, Status.IN_PROGRESS, Status.CHANGES_REQUESTED})


def in_region(region_code: str, region: str) -> bool:
    """Is a region code inside `region` (itself or below it: `15` holds `15` and `15.71`)?"""
    return region_code == region or region_code.startswith(region + ".")


class Role(StrEnum):
    EVALUATOR = "evaluator"
    VERIFIER = "verifier"          # checks evidence for one government or region (the inspectorate, the Biro/Bagian Organisasi)
    AGENCY = "agency"
    SECRETARY = "secretary"
    ADMIN = "admin"


class Action(StrEnum):
    RECORD_ACTION = "action_recorded"
    ADD_EVIDENCE = "evidence_added"
    SUBMIT = "submitted"
    VERIFY = "verified"
    REQUEST_CHANGES = "changes_requested"
    REQUEST_NOT_ACTIONABLE = "not_actionable_requested"
    APPROVE_NOT_ACTIONABLE = "not_actionable_approved"
    REJECT_NOT_ACTIONABLE = "not_actionable_rejected"
    REQUEST_EXTENSION = "extension_requested"
    APPROVE_EXTENSION = "extension_approved"
    REJECT_EXTENSION = "extension_rejected"
    LAPSE = "lapsed"
    SUBMIT_PLAN = "plan_submitted"
    ACCEPT_PLAN = "plan_accepted"
    RETURN_PLAN = "plan_returned"
    COMPLETE_MILESTONE = "milestone_done"


class ReasonCode(StrEnum):
    """Valid reasons (alasan yang sah) for a recommendation that cannot be followed up."""

    FORCE_MAJEURE = "force_majeure"
    LEGAL_PROCESS = "legal_process"
    REGULATION_CHANGED = "regulation_changed"
    ORGANISATION_RESTRUCTURED = "organisation_restructured"
    OTHER_LAWFUL = "other_lawful"


class BpkStatus(StrEnum):
    """The four statuses of BPK follow-up monitoring (Peraturan BPK 2/2017)."""

    SESUAI = "sesuai"
    BELUM_SESUAI = "belum_sesuai"
    BELUM_DITINDAKLANJUTI = "belum_ditindaklanjuti"
    TIDAK_DAPAT_DITINDAKLANJUTI = "tidak_dapat_ditindaklanjuti"


def bpk_status(status: Status, had_action: bool) -> BpkStatus | None:
    """Map a workflow status to BPK's vocabulary (None: superseded, not counted)."""
    if status is Status.VERIFIED:
        return BpkStatus.SESUAI
    if status is Status.NOT_ACTIONABLE:
        return BpkStatus.TIDAK_DAPAT_DITINDAKLANJUTI
    if status is Status.SUPERSEDED:
        return None
    if status in (Status.IN_PROGRESS, Status.SUBMITTED, Status.CHANGES_REQUESTED):
        return BpkStatus.BELUM_SESUAI
    # open, or lapsed: "belum sesuai" when something was done, else "belum ditindaklanjuti"
    return BpkStatus.BELUM_SESUAI if had_action else BpkStatus.BELUM_DITINDAKLANJUTI


# Which statuses each action may start from, and where it leads (None: status unchanged).
TRANSITIONS: dict[Action, tuple[frozenset[Status], Status | None]] = {
    Action.RECORD_ACTION: (frozenset({Status.OPEN, Status.IN_PROGRESS, Status.CHANGES_REQUESTED}),
                           Status.IN_PROGRESS),
    Action.ADD_EVIDENCE: (frozenset({Status.OPEN, Status.IN_PROGRESS, Status.CHANGES_REQUESTED}), None),
    Action.SUBMIT: (frozenset({Status.OPEN, Status.IN_PROGRESS, Status.CHANGES_REQUESTED}), Status.SUBMITTED),
    Action.VERIFY: (frozenset({Status.SUBMITTED}), Status.VERIFIED),
    Action.REQUEST_CHANGES: (frozenset({Status.SUBMITTED}), Status.CHANGES_REQUESTED),
    Action.REQUEST_NOT_ACTIONABLE: (frozenset({Status.OPEN, Status.IN_PROGRESS, Status.CHANGES_REQUESTED}), None),
    Action.APPROVE_NOT_ACTIONABLE: (frozenset({Status.OPEN, Status.IN_PROGRESS, Status.CHANGES_REQUESTED}),
                                    Status.NOT_ACTIONABLE),
    Action.REJECT_NOT_ACTIONABLE: (frozenset(Status), None),
    Action.REQUEST_EXTENSION: (frozenset({Status.OPEN, Status.IN_PROGRESS, Status.CHANGES_REQUESTED}), None),
    Action.APPROVE_EXTENSION: (frozenset({Status.OPEN, Status.IN_PROGRESS, Status.CHANGES_REQUESTED,
                                          Status.SUBMITTED}), None),
    Action.REJECT_EXTENSION: (frozenset(Status), None),
    Action.LAPSE: (frozenset({Status.OPEN, Status.IN_PROGRESS, Status.SUBMITTED, Status.CHANGES_REQUESTED}),
                   Status.LAPSED),
    Action.SUBMIT_PLAN: (frozenset({Status.OPEN, Status.IN_PROGRESS, Status.CHANGES_REQUESTED}), Status.IN_PROGRESS),
    Action.ACCEPT_PLAN: (frozenset({Status.OPEN, Status.IN_PROGRESS, Status.CHANGES_REQUESTED}), None),
    Action.RETURN_PLAN: (frozenset({Status.OPEN, Status.IN_PROGRESS, Status.CHANGES_REQUESTED}), None),
    Action.COMPLETE_MILESTONE: (frozenset({Status.OPEN, Status.IN_PROGRESS, Status.CHANGES_REQUESTED}),
                                Status.IN_PROGRESS),
}

# Which role performs each action (admins may do everything).
PERFORMED_BY: dict[Action, frozenset[Role]] = {
    Action.RECORD_ACTION: frozenset({Role.AGENCY}),
    Action.ADD_EVIDENCE: frozenset({Role.AGENCY}),
    Action.SUBMIT: frozenset({Role.AGENCY}),
    Action.REQUEST_NOT_ACTIONABLE: frozenset({Role.AGENCY}),
    Action.REQUEST_EXTENSION: frozenset({Role.AGENCY}),
    Action.VERIFY: frozenset({Role.EVALUATOR, Role.VERIFIER}),
    Action.REQUEST_CHANGES: frozenset({Role.EVALUATOR, Role.VERIFIER}),
    Action.APPROVE_NOT_ACTIONABLE: frozenset({Role.EVALUATOR, Role.VERIFIER}),
    Action.REJECT_NOT_ACTIONABLE: frozenset({Role.EVALUATOR, Role.VERIFIER}),
    Action.APPROVE_EXTENSION: frozenset({Role.EVALUATOR, Role.VERIFIER}),
    Action.REJECT_EXTENSION: frozenset({Role.EVALUATOR, Role.VERIFIER}),
    Action.LAPSE: frozenset({Role.EVALUATOR}),
    Action.SUBMIT_PLAN: frozenset({Role.AGENCY}),
    Action.ACCEPT_PLAN: frozenset({Role.EVALUATOR, Role.VERIFIER}),
    Action.RETURN_PLAN: frozenset({Role.EVALUATOR, Role.VERIFIER}),
    Action.COMPLETE_MILESTONE: frozenset({Role.AGENCY}),
}


@dataclass(frozen=True)
class Actor:
    name: str
    role: Role
    agency_id: str | None = None
    region: str | None = None


class DomainError(Exception):
    """A rule of the domain was broken; the message is in Bahasa Indonesia for the user."""


class IllegalTransition(DomainError):
    pass


class NotPermitted(DomainError):
    pass


class ConcurrentChange(DomainError):
    """Someone else changed the item between reading and writing it: the later writer loses."""

    def __init__(self, message: str = "rekomendasi ini baru saja diubah oleh pengguna lain; "
                                      "muat ulang lalu ulangi tindakan Anda") -> None:
        super().__init__(message)


class RequestKind(StrEnum):
    NOT_ACTIONABLE = "not_actionable"
    EXTENSION = "extension"


class RequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass
class FollowUpRequest:
    """An agency's request (not actionable, or a deadline extension) awaiting an evaluator."""

    id: str
    recommendation_id: str
    kind: RequestKind
    requested_by: str
    requested_at: datetime
    reason: str
    reason_code: ReasonCode | None = None
    new_due_date: date | None = None
    status: RequestStatus = RequestStatus.PENDING
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_comment: str | None = None
    events: list = field(default_factory=list, repr=False, compare=False)

    def decide(self, *, actor: Actor, approve: bool, at: datetime, comment: str | None) -> None:
        if self.status is not RequestStatus.PENDING:
            raise IllegalTransition(f"permohonan sudah diputuskan ({self.status.value})")
        if actor.name == self.requested_by:
            raise NotPermitted("pemohon tidak dapat memutuskan permohonannya sendiri")
        if actor.role not in (Role.EVALUATOR, Role.VERIFIER, Role.ADMIN):
            raise NotPermitted(f"peran {labels.role(actor.role)} tidak berwenang memutuskan permohonan")
        self.status = RequestStatus.APPROVED if approve else RequestStatus.REJECTED
        self.decided_by, self.decided_at, self.decision_comment = actor.name, at, comment
