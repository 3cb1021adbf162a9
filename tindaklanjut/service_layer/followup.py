"""Follow-up commands: record actions and evidence, submit, verify, request
and decide exceptions. Each runs in one unit of work; the aggregate enforces
the lifecycle, this layer enforces who may see which recommendation."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime

from tindaklanjut.adapters import orm
from tindaklanjut.adapters.evidence_store import EvidenceStore
from tindaklanjut.adapters.orm_followup import EvidenceRow
from tindaklanjut.domain import calendar
from tindaklanjut.domain.lifecycle import (Action, Actor, ConcurrentChange, DomainError, in_region, FollowUpRequest, IllegalTransition,
                                           ReasonCode, RequestKind, Role)
from tindaklanjut.domain.model import Recommendation


class NotFound(LookupError):
    """Unknown, or not visible to this actor: the two are indistinguishable on purpose."""


def can_see(actor: Actor, agency_id: str, agency_region: str) -> bool:
    if actor.role in (Role.EVALUATOR, Role.ADMIN):
        return True
    if actor.role is Role.AGENCY:
        return actor.agency_id == agency_id
    if actor.role is Role.SECRETARY:
        return in_region(agency_region, actor.region or "")
    return False


async def _load(uow, actor: Actor, recommendation_id: str) -> Recommendation:
    recommendation = await uow.recommendations.get(recommendation_id)
    if recommendation is None:
        raise NotFound(recommendation_id)
    agency = await uow.session.get(orm.AgencyRow, recommendation.agency_id)
    if not can_see(actor, recommendation.agency_id, agency.region_code if agency else ""):
        raise NotFound(recommendation_id)
    return recommendation


def _require_owner(actor: Actor, recommendation: Recommendation) -> None:
    """Agency actions only on the agency's own items (admins act for anyone)."""
    if actor.role is Role.AGENCY and actor.agency_id != recommendation.agency_id:
        raise NotFound(recommendation.id)


async def _apply(uow, actor: Actor, recommendation_id: str, clock: Callable[[], datetime],
                 change: Callable[[Recommendation, datetime], None]) -> Recommendation:
    async with uow:
        recommendation = await _load(uow, actor, recommendation_id)
        _require_owner(actor, recommendation)
        at = clock()
        change(recommendation, at)
        await uow.recommendations.save(recommendation, at)
        await uow.commit()
    return recommendation


async def record_action(uow, actor: Actor, recommendation_id: str, comment: str, *, clock) -> Recommendation:
    if not comment.strip():
        raise DomainError("uraian tindak lanjut wajib diisi")
    return await _apply(uow, actor, recommendation_id, clock,
                        lambda r, at: r.change(Action.RECORD_ACTION, actor=actor, at=at, comment=comment))


EVIDENCE_TRIES = 10


async def add_evidence(uow, store: EvidenceStore, actor: Actor, recommendation_id: str, *, clock,
                       filename: str | None = None, content: bytes | None = None, url: str | None = None,
                       description: str | None = None) -> EvidenceRow:
    """A new version of the evidence: a stored file (by hash) or a link.
    Additions commute, so one that meets a concurrent change is tried again."""
    stored = store.save(filename or "", content) if content is not None else None
    for attempt in range(1, EVIDENCE_TRIES + 1):
        try:
            return await _add_evidence(uow, actor, recommendation_id, clock=clock, stored=stored,
                                       filename=store.safe_name(filename) if stored else None, url=url,
                                       description=description)
        except ConcurrentChange:
            if attempt == EVIDENCE_TRIES:
                raise
    raise AssertionError("unreachable")


async def _add_evidence(uow, actor: Actor, recommendation_id: str, *, clock, stored, filename: str | None,
                        url: str | None, description: str | None) -> EvidenceRow:
    async with uow:
        recommendation = await _load(uow, actor, recommendation_id)
        _require_owner(actor, recommendation)
        at = clock()
        row = EvidenceRow(recommendation_id=recommendation_id,
                          version=await uow.evidence.next_version(recommendation_id),
                          kind="file" if stored else "link", filename=filename,
                          media_type=stored.media_type if stored else None, size=stored.size if stored else None,
                          sha256=stored.sha256 if stored else None, url=url, description=description,
                          uploaded_by=actor.name, uploaded_at=at)
        recommendation.change(Action.ADD_EVIDENCE, actor=actor, at=at, comment=description,
                              evidence=(stored.sha256,) if stored else (),
                              details={"version": row.version, "kind": row.kind, "filename": row.filename,
                                       "url": url})
        # The version check first: a concurrent addition loses here, before its evidence row is written.
        await uow.recommendations.save(recommendation, at)
        uow.evidence.add(row)
        await uow.commit()
    return row


async def submit(uow, actor: Actor, recommendation_id: str, comment: str | None, *, clock) -> Recommendation:
    async with uow:
        recommendation = await _load(uow, actor, recommendation_id)
        _require_owner(actor, recommendation)
        at = clock()
        recommendation.submit(actor=actor, at=at, comment=comment,
                              evidence_count=await uow.evidence.count(recommendation_id))
        await uow.recommendations.save(recommendation, at)
        await uow.commit()
    return recommendation


async def verify(uow, actor: Actor, recommendation_id: str, comment: str | None, *, clock) -> Recommendation:
    return await _apply(uow, actor, recommendation_id, clock,
                        lambda r, at: r.change(Action.VERIFY, actor=actor, at=at, comment=comment))


async def request_changes(uow, actor: Actor, recommendation_id: str, comment: str, *, clock) -> Recommendation:
    return await _apply(uow, actor, recommendation_id, clock,
                        lambda r, at: r.change(Action.REQUEST_CHANGES, actor=actor, at=at, comment=comment))


async def request_exception(uow, actor: Actor, recommendation_id: str, *, kind: RequestKind, reason: str,
                            clock, reason_code: ReasonCode | None = None,
                            new_due_date: date | None = None) -> FollowUpRequest:
    """An agency asks for `not_actionable` (with a reason code) or an extension (with a new date)."""
    if not reason.strip():
        raise DomainError("alasan wajib diisi")
    if kind is RequestKind.NOT_ACTIONABLE and reason_code is None:
        raise DomainError("kode alasan wajib diisi")
    async with uow:
        recommendation = await _load(uow, actor, recommendation_id)
        _require_owner(actor, recommendation)
        if kind is RequestKind.EXTENSION and (new_due_date is None or new_due_date <= recommendation.due_date):
            raise DomainError("tanggal baru harus setelah tenggat saat ini")
        if await uow.requests.pending_for(recommendation_id, kind):
            raise IllegalTransition("masih ada permohonan yang belum diputuskan")
        at = clock()
        request = FollowUpRequest(id=str(uuid.uuid4()), recommendation_id=recommendation_id, kind=kind,
                                  requested_by=actor.name, requested_at=at, reason=reason, reason_code=reason_code,
                                  new_due_date=new_due_date)
        action = Action.REQUEST_NOT_ACTIONABLE if kind is RequestKind.NOT_ACTIONABLE else Action.REQUEST_EXTENSION
        recommendation.change(action, actor=actor, at=at, comment=reason, details={
            "request_id": request.id, "reason_code": reason_code.value if reason_code else None,
            "new_due_date": new_due_date.isoformat() if new_due_date else None})
        await uow.requests.save(request)
        await uow.recommendations.save(recommendation, at)
        await uow.commit()
    return request


async def decide_request(uow, actor: Actor, request_id: str, *, approve: bool, comment: str | None,
                         clock) -> FollowUpRequest:
    """An evaluator approves or rejects; never the requester."""
    async with uow:
        request = await uow.requests.get(request_id)
        if request is None:
            raise NotFound(request_id)
        recommendation = await _load(uow, actor, request.recommendation_id)
        at = clock()
        request.decide(actor=actor, approve=approve, at=at, comment=comment)
        details = {"request_id": request.id}
        if request.kind is RequestKind.EXTENSION and approve:
            unit = await uow.session.get(orm.UnitRow, recommendation.unit_id)
            due_date, due_at = calendar.deadline_on(request.new_due_date, region_code=unit.region_code)
            recommendation.extend(actor=actor, at=at, due_date=due_date, due_at=due_at, comment=comment,
                                  request_id=request.id)
        else:
            action = {(RequestKind.EXTENSION, False): Action.REJECT_EXTENSION,
                      (RequestKind.NOT_ACTIONABLE, True): Action.APPROVE_NOT_ACTIONABLE,
                      (RequestKind.NOT_ACTIONABLE, False): Action.REJECT_NOT_ACTIONABLE}[(request.kind, approve)]
            recommendation.change(action, actor=actor, at=at, comment=comment, details=details)
        await uow.requests.save(request)
        await uow.recommendations.save(recommendation, at)
        await uow.commit()
    return request
