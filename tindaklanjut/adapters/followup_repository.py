"""Repositories of the follow-up lifecycle (audit trail, evidence, requests)."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tindaklanjut.adapters import orm_followup as tables
from tindaklanjut.domain import events
from tindaklanjut.ports.repositories import AbstractAuditTrail, AbstractEvidence, AbstractRequests
from tindaklanjut.domain.evidence import EvidenceVersion
from tindaklanjut.domain.lifecycle import ConcurrentChange, FollowUpRequest, ReasonCode, RequestKind, RequestStatus


class SqlAuditTrail(AbstractAuditTrail):
    """Append-only: entries are added, never changed. They join the session at commit
    (`write_new`): `add` never touches the session, so it may run while a write is in flight."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._rows: list[tables.AuditEntryRow] = []

    def add(self, event: events.FollowUpChanged) -> None:
        self._rows.append(tables.AuditEntryRow(
            recommendation_id=event.recommendation_id, action=event.action, actor=event.actor, role=event.role,
            from_status=event.from_status, to_status=event.to_status, comment=event.comment,
            evidence=list(event.evidence), details=event.details or {}, at=event.occurred_at))

    def write_new(self) -> None:
        rows, self._rows = self._rows, []
        self.session.add_all(rows)


class SqlEvidence(AbstractEvidence):
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def next_version(self, recommendation_id: str) -> int:
        current = await self.session.scalar(select(func.max(tables.EvidenceRow.version))
                                            .where(tables.EvidenceRow.recommendation_id == recommendation_id))
        return (current or 0) + 1

    async def count(self, recommendation_id: str) -> int:
        return await self.session.scalar(select(func.count()).select_from(tables.EvidenceRow)
                                         .where(tables.EvidenceRow.recommendation_id == recommendation_id))

    def add(self, version: EvidenceVersion) -> None:
        self.session.add(tables.EvidenceRow(**asdict(version)))


def _request_from_row(row: tables.FollowUpRequestRow) -> FollowUpRequest:
    return FollowUpRequest(
        id=row.id, recommendation_id=row.recommendation_id, kind=RequestKind(row.kind),
        requested_by=row.requested_by, requested_at=row.requested_at, reason=row.reason,
        reason_code=ReasonCode(row.reason_code) if row.reason_code else None, new_due_date=row.new_due_date,
        status=RequestStatus(row.status), decided_by=row.decided_by, decided_at=row.decided_at,
        decision_comment=row.decision_comment)


class SqlRequests(AbstractRequests):
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, request_id: str) -> FollowUpRequest | None:
        row = await self.session.get(tables.FollowUpRequestRow, request_id)
        return _request_from_row(row) if row else None

    async def pending_for(self, recommendation_id: str, kind: RequestKind) -> FollowUpRequest | None:
        row = await self.session.scalar(select(tables.FollowUpRequestRow).where(
            tables.FollowUpRequestRow.recommendation_id == recommendation_id,
            tables.FollowUpRequestRow.kind == kind.value,
            tables.FollowUpRequestRow.status == RequestStatus.PENDING.value))
        return _request_from_row(row) if row else None

    async def save(self, request: FollowUpRequest) -> None:
        """A new request, or a decision; a decision only lands on a request
        that is still pending (two deciders: the later one loses)."""
        if request.status is not RequestStatus.PENDING:
            table = tables.FollowUpRequestRow
            result = await self.session.execute(
                update(table).where(table.id == request.id, table.status == RequestStatus.PENDING.value)
                .values(status=request.status.value, decided_by=request.decided_by, decided_at=request.decided_at,
                        decision_comment=request.decision_comment).execution_options(synchronize_session=False))
            if result.rowcount != 1:
                raise ConcurrentChange("permohonan ini baru saja diputuskan oleh pengguna lain")
            return
        await self.session.merge(tables.FollowUpRequestRow(
            id=request.id, recommendation_id=request.recommendation_id, kind=request.kind.value,
            requested_by=request.requested_by, requested_at=request.requested_at, reason=request.reason,
            reason_code=request.reason_code.value if request.reason_code else None,
            new_due_date=request.new_due_date, status=request.status.value, decided_by=request.decided_by,
            decided_at=request.decided_at, decision_comment=request.decision_comment))
