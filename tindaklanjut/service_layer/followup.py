"""Follow-up command handlers: record actions and evidence, submit, verify,
request and decide exceptions. Each runs in one unit of work; the aggregate
enforces the lifecycle, `domain.access` who may see which recommendation."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from tindaklanjut.domain import calendar
from tindaklanjut.domain.access import can_see, may_verify, owns
from tindaklanjut.domain.frameworks import FrameworkCatalogue
from tindaklanjut.domain.evidence import EvidenceVersion
from tindaklanjut.domain.lifecycle import (Action, Actor, ConcurrentChange, DomainError, FollowUpRequest,
                                           IllegalTransition, NotPermitted, RequestKind, Role)
from tindaklanjut.domain.model import Recommendation
from tindaklanjut.service_layer import commands
from tindaklanjut.service_layer.unit_of_work import AbstractUnitOfWork

NewUnitOfWork = Callable[[], AbstractUnitOfWork]
Clock = Callable[[], datetime]
EVIDENCE_TRIES = 10


class NotFound(LookupError):
    """Unknown, or not visible to this actor: the two are indistinguishable on purpose."""


async def _load(uow: AbstractUnitOfWork, actor: Actor, recommendation_id: str) -> Recommendation:
    recommendation = await uow.recommendations.get(recommendation_id)
    if recommendation is None:
        raise NotFound(recommendation_id)
    region = await uow.directory.agency_region(recommendation.agency_id)
    if not can_see(actor, recommendation.agency_id, region or ""):
        raise NotFound(recommendation_id)
    return recommendation


def _require_owner(actor: Actor, recommendation: Recommendation) -> None:
    """Agency actions only on the agency's own items (admins act for anyone; others are refused by role)."""
    if actor.role is Role.AGENCY and not owns(actor, recommendation.agency_id):
        raise NotFound(recommendation.id)


async def _apply(uow: AbstractUnitOfWork, command: commands.FollowUpCommand, clock: Clock,
                 change: Callable[[Recommendation, datetime], None]) -> Recommendation:
    async with uow:
        recommendation = await _load(uow, command.actor, command.recommendation_id)
        _require_owner(command.actor, recommendation)
        at = clock()
        change(recommendation, at)
        await uow.recommendations.save(recommendation, at)
        await uow.commit()
    return recommendation


async def record_action(command: commands.RecordAction, new_uow: NewUnitOfWork, clock: Clock) -> Recommendation:
    if not command.comment.strip():
        raise DomainError("uraian tindak lanjut wajib diisi")
    return await _apply(new_uow(), command, clock, lambda r, at: r.change(
        Action.RECORD_ACTION, actor=command.actor, at=at, comment=command.comment))


async def attach_evidence(command: commands.AttachEvidence, new_uow: NewUnitOfWork, clock: Clock,
                          evidence_store) -> EvidenceVersion:
    """A new version of the evidence: a stored file (by hash) or a link.
    Additions commute, so one that meets a concurrent change is tried again."""
    if command.content is None and not command.url:
        raise DomainError("unggah berkas atau isi tautan")
    stored = await evidence_store.save(command.filename or "", command.content) if command.content is not None else None
    filename = evidence_store.safe_name(command.filename) if stored else None
    for attempt in range(1, EVIDENCE_TRIES + 1):
        try:
            return await _attach(new_uow(), command, clock, stored, filename)
        except ConcurrentChange:
            if attempt == EVIDENCE_TRIES:
                raise
    raise AssertionError("unreachable")


async def _attach(uow: AbstractUnitOfWork, command: commands.AttachEvidence, clock: Clock, stored,
                  filename: str | None) -> EvidenceVersion:
    actor = command.actor
    async with uow:
        recommendation = await _load(uow, actor, command.recommendation_id)
        _require_owner(actor, recommendation)
        at = clock()
        version = EvidenceVersion(
            recommendation_id=recommendation.id, version=await uow.evidence.next_version(recommendation.id),
            kind="file" if stored else "link", filename=filename, media_type=stored.media_type if stored else None,
            size=stored.size if stored else None, sha256=stored.sha256 if stored else None,
            url=None if stored else command.url, description=command.description, uploaded_by=actor.name,
            uploaded_at=at)
        recommendation.change(Action.ADD_EVIDENCE, actor=actor, at=at, comment=command.description,
                              evidence=(stored.sha256,) if stored else (),
                              details={"version": version.version, "kind": version.kind,
                                       "filename": version.filename, "url": version.url})
        # The version check first: a concurrent addition loses here, before its evidence row is written.
        await uow.recommendations.save(recommendation, at)
        uow.evidence.add(version)
        await uow.commit()
    return version


async def submit(command: commands.SubmitFollowUp, new_uow: NewUnitOfWork, clock: Clock) -> Recommendation:
    uow = new_uow()
    async with uow:
        recommendation = await _load(uow, command.actor, command.recommendation_id)
        _require_owner(command.actor, recommendation)
        at = clock()
        recommendation.submit(actor=command.actor, at=at, comment=command.comment,
                              evidence_count=await uow.evidence.count(recommendation.id))
        await uow.recommendations.save(recommendation, at)
        await uow.commit()
    return recommendation


def _require_verifier(actor: Actor, recommendation: Recommendation, catalogue: FrameworkCatalogue) -> None:
    """A verifier checks evidence only where the framework lets its role do so (domain.access)."""
    framework = catalogue.get(recommendation.framework)
    if actor.role is Role.VERIFIER and not may_verify(actor, framework.verified_by if framework else ()):
        raise NotPermitted(f"verifikasi {recommendation.framework} dilakukan oleh evaluator, bukan verifikator")


async def _verifier_step(action: Action, command: commands.VerifyFollowUp | commands.RequestChanges,
                         new_uow: NewUnitOfWork, clock: Clock, catalogue: FrameworkCatalogue) -> Recommendation:
    def change(r: Recommendation, at: datetime) -> None:
        _require_verifier(command.actor, r, catalogue)
        r.change(action, actor=command.actor, at=at, comment=command.comment)
    return await _apply(new_uow(), command, clock, change)


async def verify(command: commands.VerifyFollowUp, new_uow: NewUnitOfWork, clock: Clock,
                 catalogue: FrameworkCatalogue) -> Recommendation:
    return await _verifier_step(Action.VERIFY, command, new_uow, clock, catalogue)


async def request_changes(command: commands.RequestChanges, new_uow: NewUnitOfWork, clock: Clock,
                          catalogue: FrameworkCatalogue) -> Recommendation:
    return await _verifier_step(Action.REQUEST_CHANGES, command, new_uow, clock, catalogue)


async def request_extension(command: commands.RequestExtension, new_uow: NewUnitOfWork,
                            clock: Clock) -> FollowUpRequest:
    return await _request(new_uow(), command, RequestKind.EXTENSION, clock, new_due_date=command.new_due_date)


async def request_not_actionable(command: commands.RequestNotActionable, new_uow: NewUnitOfWork,
                                 clock: Clock) -> FollowUpRequest:
    if command.reason_code is None:
        raise DomainError("kode alasan wajib diisi")
    return await _request(new_uow(), command, RequestKind.NOT_ACTIONABLE, clock, reason_code=command.reason_code)


async def _request(uow: AbstractUnitOfWork, command, kind: RequestKind, clock: Clock, *, reason_code=None,
                   new_due_date=None) -> FollowUpRequest:
    """An agency asks for `not_actionable` (with a reason code) or an extension (with a new date)."""
    actor = command.actor
    if not command.reason.strip():
        raise DomainError("alasan wajib diisi")
    async with uow:
        recommendation = await _load(uow, actor, command.recommendation_id)
        _require_owner(actor, recommendation)
        if kind is RequestKind.EXTENSION and (new_due_date is None or new_due_date <= recommendation.due_date):
            raise DomainError("tanggal baru harus setelah tenggat saat ini")
        if await uow.requests.pending_for(recommendation.id, kind):
            raise IllegalTransition("masih ada permohonan yang belum diputuskan")
        at = clock()
        request = FollowUpRequest(id=str(uuid.uuid4()), recommendation_id=recommendation.id, kind=kind,
                                  requested_by=actor.name, requested_at=at, reason=command.reason,
                                  reason_code=reason_code, new_due_date=new_due_date)
        action = Action.REQUEST_NOT_ACTIONABLE if kind is RequestKind.NOT_ACTIONABLE else Action.REQUEST_EXTENSION
        recommendation.change(action, actor=actor, at=at, comment=command.reason, details={
            "request_id": request.id, "reason_code": reason_code.value if reason_code else None,
            "new_due_date": new_due_date.isoformat() if new_due_date else None})
        await uow.requests.save(request)
        await uow.recommendations.save(recommendation, at)
        await uow.commit()
    return request


async def decide_request(command: commands.DecideRequest, new_uow: NewUnitOfWork, clock: Clock,
                         catalogue: FrameworkCatalogue) -> FollowUpRequest:
    """An evaluator (or the framework's verifier) approves or rejects; never the requester."""
    actor, approve = command.actor, command.approve
    uow = new_uow()
    async with uow:
        request = await uow.requests.get(command.request_id)
        if request is None:
            raise NotFound(command.request_id)
        recommendation = await _load(uow, actor, request.recommendation_id)
        _require_verifier(actor, recommendation, catalogue)
        at = clock()
        request.decide(actor=actor, approve=approve, at=at, comment=command.comment)
        if request.kind is RequestKind.EXTENSION and approve:
            region = await uow.directory.unit_region(recommendation.unit_id)
            due_date, due_at = calendar.deadline_on(request.new_due_date, region_code=region)
            recommendation.extend(actor=actor, at=at, due_date=due_date, due_at=due_at, comment=command.comment,
                                  request_id=request.id)
        else:
            action = {(RequestKind.EXTENSION, False): Action.REJECT_EXTENSION,
                      (RequestKind.NOT_ACTIONABLE, True): Action.APPROVE_NOT_ACTIONABLE,
                      (RequestKind.NOT_ACTIONABLE, False): Action.REJECT_NOT_ACTIONABLE}[(request.kind, approve)]
            recommendation.change(action, actor=actor, at=at, comment=command.comment,
                                  details={"request_id": request.id})
        await uow.requests.save(request)
        await uow.recommendations.save(recommendation, at)
        await uow.commit()
    return request
