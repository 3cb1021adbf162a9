"""Commands: every write the system accepts, as an imperative, frozen,
keyword-only message. Entry points (faust agents, scheduler jobs, the CLI,
API routes, web pages) only build these and hand them to the message bus."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from tindaklanjut.domain.lifecycle import Actor, ReasonCode, Role
from tindaklanjut.domain.plans import BudgetSource
from tindaklanjut.domain.reminders import Contact
from tindaklanjut.ports.messages import IngestAssessment, Origin


@dataclass(frozen=True, kw_only=True)
class Command:
    """Base of every command."""


@dataclass(frozen=True, kw_only=True)
class IngestAssessments(Command):
    """A batch of raw `assessment.published` messages off the wire, in one transaction."""

    messages: tuple[IngestAssessment, ...]


@dataclass(frozen=True, kw_only=True)
class PublishAssessment(Command):
    """An assessment sent over HTTP: validated, then written to the outbox."""

    raw: bytes


@dataclass(frozen=True, kw_only=True)
class FollowUpCommand(Command):
    actor: Actor
    recommendation_id: str


@dataclass(frozen=True, kw_only=True)
class RecordAction(FollowUpCommand):
    comment: str


@dataclass(frozen=True, kw_only=True)
class AttachEvidence(FollowUpCommand):
    """A file (name and bytes) or a link; every attachment is a new version."""

    filename: str | None = None
    content: bytes | None = None
    url: str | None = None
    description: str | None = None


@dataclass(frozen=True, kw_only=True)
class SubmitFollowUp(FollowUpCommand):
    comment: str | None = None


@dataclass(frozen=True, kw_only=True)
class VerifyFollowUp(FollowUpCommand):
    comment: str | None = None


@dataclass(frozen=True, kw_only=True)
class RequestChanges(FollowUpCommand):
    comment: str


@dataclass(frozen=True, kw_only=True)
class RequestExtension(FollowUpCommand):
    reason: str
    new_due_date: date


@dataclass(frozen=True, kw_only=True)
class RequestNotActionable(FollowUpCommand):
    reason: str
    reason_code: ReasonCode | None


@dataclass(frozen=True, kw_only=True)
class SubmitActionPlan(FollowUpCommand):
    """A rencana aksi: where the money comes from, and milestones as (description, responsible, target date)."""

    budget_source: BudgetSource
    milestones: tuple[tuple[str, str, date], ...]


@dataclass(frozen=True, kw_only=True)
class DecideActionPlan(FollowUpCommand):
    accept: bool
    comment: str | None = None


@dataclass(frozen=True, kw_only=True)
class CompleteMilestone(FollowUpCommand):
    seq: int
    comment: str | None = None


@dataclass(frozen=True, kw_only=True)
class DecideRequest(Command):
    actor: Actor
    request_id: str
    approve: bool
    comment: str | None = None


@dataclass(frozen=True, kw_only=True)
class CloseCycle(Command):
    actor: Actor
    framework: str
    cycle: str


@dataclass(frozen=True, kw_only=True)
class CloseDueCycles(Command):
    """Close every cycle whose follow-up window ended before `now`."""

    now: datetime


@dataclass(frozen=True, kw_only=True)
class HandleCycleClosed(Command):
    """A raw `cycle.closed` message off the wire."""

    raw: bytes
    origin: Origin


@dataclass(frozen=True, kw_only=True)
class AddUser(Command):
    name: str
    role: Role
    agency_id: str | None = None
    region: str | None = None
    expires_in: timedelta | None = None
    password: str | None = None


@dataclass(frozen=True, kw_only=True)
class RevokeToken(Command):
    name: str


@dataclass(frozen=True, kw_only=True)
class SetPassword(Command):
    """Set or reset a user's password; logs the user out everywhere."""

    name: str
    password: str


@dataclass(frozen=True, kw_only=True)
class DisableUser(Command):
    """No more logins or token use for this account; its history stays."""

    name: str


@dataclass(frozen=True, kw_only=True)
class LogIn(Command):
    """A browser login with name and password."""

    name: str
    password: str


@dataclass(frozen=True, kw_only=True)
class LogOut(Command):
    session_token: str


@dataclass(frozen=True, kw_only=True)
class ImportContacts(Command):
    """Upsert who receives reminders, by (agency, unit, role)."""

    contacts: tuple[Contact, ...]
    at: datetime


@dataclass(frozen=True, kw_only=True)
class RunSweep(Command):
    """One reminder sweep as if it were `now`: plan what is due, then (unless `send` is off) send."""

    now: datetime
    owner: str
    reconcile: bool = True
    send: bool = True
