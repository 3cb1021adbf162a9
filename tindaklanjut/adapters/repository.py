"""SQL repositories: map domain objects to rows inside one session."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tindaklanjut.adapters import orm
from tindaklanjut.domain.model import CLOSED_STATUSES, REVISABLE_FIELDS, Assessment, Priority, Recommendation, Scope, Status
from tindaklanjut.events.assessment import Unit
from tindaklanjut.service_layer.messages import OutboundMessage


class SqlProcessedEvents:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._pending: set[tuple[str, str]] = set()

    async def seen(self, source: str, event_id: str) -> bool:
        if (source, event_id) in self._pending:
            return True
        return await self.session.get(orm.ProcessedEventRow, (source, event_id)) is not None

    def add(self, *, source: str, event_id: str, event_type: str, outcome: str, at: datetime) -> None:
        self._pending.add((source, event_id))
        self.session.add(orm.ProcessedEventRow(source=source, event_id=event_id, event_type=event_type,
                                               outcome=outcome, processed_at=at))

    async def count_redelivery(self, source: str, event_id: str) -> None:
        row = await self.session.get(orm.ProcessedEventRow, (source, event_id))
        if row is not None:
            row.redeliveries += 1


class SqlDirectory:
    """Agencies and units, upserted from the events that mention them."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.units: dict[str, Unit] = {}

    async def upsert_unit(self, unit: Unit) -> None:
        agency = await self.session.get(orm.AgencyRow, unit.agency.id)
        if agency is None:
            self.session.add(orm.AgencyRow(id=unit.agency.id, name=unit.agency.name, kind=unit.agency.kind.value,
                                           region_code=unit.region_code.split(".")[0] if unit.agency.kind == "pemprov"
                                           else unit.region_code))
        else:
            agency.name, agency.kind = unit.agency.name, unit.agency.kind.value
        row = await self.session.get(orm.UnitRow, unit.id)
        if row is None:
            self.session.add(orm.UnitRow(id=unit.id, name=unit.name, agency_id=unit.agency.id,
                                         region_code=unit.region_code))
        else:
            row.name, row.agency_id, row.region_code = unit.name, unit.agency.id, unit.region_code
        if unit.id not in self.units:
            await self.session.flush()  # parents before the rows that reference them
        self.units[unit.id] = unit


class SqlAssessments:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._pending: dict[str, Assessment] = {}

    async def latest_revision(self, assessment_id: str) -> int | None:
        if assessment_id in self._pending:
            return self._pending[assessment_id].revision
        return await self.session.scalar(select(func.max(orm.AssessmentRow.revision))
                                         .where(orm.AssessmentRow.assessment_id == assessment_id))

    def add(self, assessment: Assessment, payload: dict, received_at: datetime) -> None:
        self._pending[assessment.assessment_id] = assessment
        self.session.add(orm.AssessmentRow(
            assessment_id=assessment.assessment_id, revision=assessment.revision,
            framework=assessment.framework, cycle=assessment.cycle, unit_id=assessment.unit_id,
            agency_id=assessment.agency_id, score=assessment.score, official_grade=assessment.official_grade,
            computed_grade=assessment.computed_grade, grade_mismatch=assessment.grade_mismatch,
            published_at=assessment.published_at, follow_up_until=assessment.follow_up_until,
            source=assessment.source, event_id=assessment.event_id, payload=payload, received_at=received_at))


def recommendation_from_row(row: orm.RecommendationRow) -> Recommendation:
    return Recommendation(
        id=row.id, assessment_id=row.assessment_id, assessment_revision=row.assessment_revision,
        framework=row.framework, cycle=row.cycle, unit_id=row.unit_id, agency_id=row.agency_id,
        scope=Scope(row.scope), aspect_code=row.aspect_code, indicator_code=row.indicator_code,
        sp_component=row.sp_component, title=row.title, action=row.action, finding=row.finding,
        priority=Priority(row.priority), due_date=row.due_date, due_at=row.due_at, rule_id=row.rule_id,
        issued_at=row.issued_at, status=Status(row.status), indicator_name=row.indicator_name,
        evidence=row.evidence, catalogue_version=row.catalogue_version, template=row.template,
        carried_over_from=row.carried_over_from, indicator_score=row.indicator_score,
        indicator_max_score=row.indicator_max_score, had_action=row.had_action, extended=row.extended)


class SqlRecommendations:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.seen: list[Recommendation] = []

    def add(self, recommendation: Recommendation) -> None:
        self.seen.append(recommendation)
        r = recommendation
        self.session.add(orm.RecommendationRow(
            id=r.id, assessment_id=r.assessment_id, assessment_revision=r.assessment_revision,
            framework=r.framework, cycle=r.cycle, unit_id=r.unit_id, agency_id=r.agency_id, scope=r.scope.value,
            aspect_code=r.aspect_code, indicator_code=r.indicator_code, sp_component=r.sp_component,
            title=r.title, action=r.action, finding=r.finding, priority=r.priority.value, due_date=r.due_date,
            due_at=r.due_at, status=r.status.value, rule_id=r.rule_id, issued_at=r.issued_at,
            updated_at=r.issued_at, indicator_name=r.indicator_name, evidence=r.evidence,
            catalogue_version=r.catalogue_version, template=r.template, carried_over_from=r.carried_over_from,
            indicator_score=r.indicator_score, indicator_max_score=r.indicator_max_score))

    async def for_assessment(self, assessment_id: str) -> list[Recommendation]:
        rows = await self.session.scalars(select(orm.RecommendationRow)
                                          .where(orm.RecommendationRow.assessment_id == assessment_id))
        return [recommendation_from_row(row) for row in rows]

    async def save(self, recommendation: Recommendation, at: datetime) -> None:
        """Write back a changed recommendation."""
        self.seen.append(recommendation)
        row = await self.session.get(orm.RecommendationRow, recommendation.id)
        r = recommendation
        for name in REVISABLE_FIELDS:
            setattr(row, name, getattr(r, name))
        row.priority, row.status, row.updated_at = r.priority.value, r.status.value, at
        row.carried_over_from, row.had_action, row.extended = r.carried_over_from, r.had_action, r.extended
        row.indicator_score, row.indicator_max_score = r.indicator_score, r.indicator_max_score
        if r.status is Status.VERIFIED and row.verified_at is None:
            row.verified_at = at

    async def open_in_earlier_cycles(self, unit_id: str, cycle: str) -> list[Recommendation]:
        """Open indicator recommendations of this unit from cycles before `cycle`."""
        rows = await self.session.scalars(select(orm.RecommendationRow).where(
            orm.RecommendationRow.unit_id == unit_id, orm.RecommendationRow.cycle < cycle,
            orm.RecommendationRow.scope == Scope.INDICATOR.value,
            orm.RecommendationRow.status.not_in([s.value for s in CLOSED_STATUSES])))
        return [recommendation_from_row(row) for row in rows]

    async def record_next_cycle_scores(self, unit_id: str, cycle: str, assessment_id: str,
                                       ratios: dict[str, float]) -> int:
        """Earlier cycles' recommendations of this unit learn how their indicator scored next."""
        rows = (await self.session.scalars(select(orm.RecommendationRow).where(
            orm.RecommendationRow.unit_id == unit_id, orm.RecommendationRow.cycle < cycle,
            orm.RecommendationRow.indicator_code.in_(list(ratios))))).all()
        for row in rows:
            if row.next_assessment_id is not None and row.next_assessment_id != assessment_id:
                continue   # already compared with an earlier next cycle
            row.next_assessment_id = assessment_id
            row.next_score_ratio = ratios[row.indicator_code]
            if row.indicator_score is not None and row.indicator_max_score:
                row.score_change = row.next_score_ratio - row.indicator_score / row.indicator_max_score
        return len(rows)

    async def get(self, recommendation_id: str) -> Recommendation | None:
        row = await self.session.get(orm.RecommendationRow, recommendation_id)
        return recommendation_from_row(row) if row else None


class SqlOutbox:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.added = 0

    def add(self, message: OutboundMessage, at: datetime) -> None:
        self.added += 1
        self.session.add(orm.OutboxRow(topic=message.topic, key=message.key, event_type=message.event_type,
                                       event_id=message.event_id, value=message.value,
                                       headers=[list(h) for h in message.headers], created_at=at))


class SqlDeadLetters:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def exists(self, *, topic: str, partition: int, offset: int, sha256: str) -> bool:
        found = await self.session.scalar(select(orm.DeadLetterRow.id).where(
            orm.DeadLetterRow.topic == topic, orm.DeadLetterRow.partition == partition,
            orm.DeadLetterRow.offset == offset, orm.DeadLetterRow.sha256 == sha256))
        return found is not None

    def add(self, *, topic: str, partition: int, offset: int, sha256: str, reason_code: str, reason: str,
            errors: list[dict], raw: bytes, at: datetime) -> None:
        self.session.add(orm.DeadLetterRow(topic=topic, partition=partition, offset=offset, sha256=sha256,
                                           reason_code=reason_code, reason=reason, errors=errors, raw=raw,
                                           received_at=at))
