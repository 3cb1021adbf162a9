"""Read-side queries (no domain objects, just rows for people and scripts)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from tindaklanjut.adapters import orm
from tindaklanjut.adapters import broker_epochs


# What `tindaklanjut recommendations` lists: what every reader sees, and where the item came from.
LISTED_FIELDS = (*orm.RecommendationFields.model_fields, "assessment_revision", "sp_component", "rule_id",
                 "catalogue_version", "template", "issued_at")


def _plain(value):
    return value.isoformat() if isinstance(value, (date, datetime)) else value


async def recommendations(sessions: async_sessionmaker, *, unit_id: str | None = None,
                          agency_id: str | None = None, status: str | None = None) -> list[dict]:
    query = select(orm.RecommendationRow).order_by(orm.RecommendationRow.unit_id, orm.RecommendationRow.due_at,
                                                   orm.RecommendationRow.id)
    if unit_id:
        query = query.where(orm.RecommendationRow.unit_id == unit_id)
    if agency_id:
        query = query.where(orm.RecommendationRow.agency_id == agency_id)
    if status:
        query = query.where(orm.RecommendationRow.status == status)
    async with sessions() as session:
        rows = (await session.scalars(query)).all()
    return [{name: _plain(getattr(r, name)) for name in LISTED_FIELDS} for r in rows]


async def assessments(sessions: async_sessionmaker) -> list[dict]:
    query = select(orm.AssessmentRow).order_by(orm.AssessmentRow.unit_id, orm.AssessmentRow.assessment_id,
                                               orm.AssessmentRow.revision)
    async with sessions() as session:
        rows = (await session.scalars(query)).all()
    return [{
        "assessment_id": r.assessment_id, "revision": r.revision, "framework": r.framework, "cycle": r.cycle,
        "unit_id": r.unit_id, "agency_id": r.agency_id, "score": r.score, "official_grade": r.official_grade,
        "computed_grade": r.computed_grade, "grade_mismatch": r.grade_mismatch,
        "published_at": r.published_at.isoformat(), "follow_up_until": r.follow_up_until.isoformat(),
    } for r in rows]


async def dead_letters(sessions: async_sessionmaker) -> list[dict]:
    async with sessions() as session:
        rows = (await session.scalars(select(orm.DeadLetterRow).order_by(orm.DeadLetterRow.id))).all()
    return [{
        "id": r.id, "topic": r.topic, "partition": r.partition, "offset": r.offset, "reason_code": r.reason_code,
        "reason": r.reason, "sha256": r.sha256, "received_at": r.received_at.isoformat(), "size": len(r.raw),
    } for r in rows]


async def get_setting(sessions: async_sessionmaker, key: str) -> str | None:
    async with sessions() as session:
        row = await session.get(orm.SettingRow, key)
        return row.value if row else None


async def put_setting(sessions: async_sessionmaker, key: str, value: str) -> None:
    async with sessions() as session, session.begin():
        await session.merge(orm.SettingRow(key=key, value=value))


async def stats(sessions: async_sessionmaker) -> dict:
    """Counters an operator looks at: what came in, what was issued, what is stuck."""
    async with sessions() as session:
        by_outcome = dict((await session.execute(
            select(orm.ProcessedEventRow.outcome, func.count()).group_by(orm.ProcessedEventRow.outcome))).all())
        by_status = dict((await session.execute(
            select(orm.RecommendationRow.status, func.count()).group_by(orm.RecommendationRow.status))).all())
        redeliveries = await session.scalar(select(func.coalesce(func.sum(orm.ProcessedEventRow.redeliveries), 0)))
        dead = await session.scalar(select(func.count()).select_from(orm.DeadLetterRow))
        pending = await session.scalar(select(func.count()).select_from(orm.OutboxRow).where(
            orm.OutboxRow.published_at.is_(None), orm.OutboxRow.parked_at.is_(None)))
        parked = await session.scalar(select(func.count()).select_from(orm.OutboxRow)
                                      .where(orm.OutboxRow.parked_at.is_not(None)))
        assessments_count = await session.scalar(select(func.count()).select_from(orm.AssessmentRow))
    restarts = await broker_epochs.restarts(sessions)
    return {
        "assessments": assessments_count,
        "events_processed": by_outcome.get("processed", 0),
        "duplicate_revisions": by_outcome.get("duplicate_revision", 0),
        "redeliveries": int(redeliveries),
        "dead_letters": dead,
        "recommendations": by_status,
        "outbox_pending": pending,
        "outbox_parked": parked,
        "broker_restarts": len(restarts),
        # Input sent to a broker that then lost it: ask its publishers to send again from this moment.
        "input_may_be_lost_since": restarts[0]["input_may_be_lost_since"] if restarts else None,
    }


async def parked_outbox(sessions: async_sessionmaker) -> list[dict]:
    """Outbox rows the broker refused for good, with their reasons."""
    async with sessions() as session:
        rows = (await session.execute(select(
            orm.OutboxRow.id, orm.OutboxRow.topic, orm.OutboxRow.event_type, orm.OutboxRow.event_id,
            func.length(orm.OutboxRow.value), orm.OutboxRow.parked_at, orm.OutboxRow.park_reason)
            .where(orm.OutboxRow.parked_at.is_not(None)).order_by(orm.OutboxRow.id))).all()
    return [{"id": r[0], "topic": r[1], "event_type": r[2], "event_id": r[3], "size": r[4],
             "parked_at": r[5].isoformat(), "reason": r[6]} for r in rows]
