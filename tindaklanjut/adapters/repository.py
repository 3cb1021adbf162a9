"""SQL repositories: map domain objects to rows inside one session."""

from __future__ import annotations

import dataclasses
import json

from datetime import datetime
from functools import lru_cache

from sqlalchemy import bindparam, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from tindaklanjut.adapters import bulk, orm
from tindaklanjut.adapters.matching import one_of, pairs_in
from tindaklanjut.domain.lifecycle import ConcurrentChange
from tindaklanjut.domain.plans import ActionPlan
from tindaklanjut.domain.model import (CLOSED_STATUSES, REVISABLE_FIELDS, Assessment, Priority, Recommendation,
                                       Scope, Status)
from tindaklanjut.events.assessment import Agency, AgencyKind, Unit
from tindaklanjut.ports.messages import OutboundMessage
from tindaklanjut.ports.repositories import (AbstractAssessments, AbstractDeadLetters, AbstractDirectory,
                                                     AbstractOutbox, AbstractProcessedEvents,
                                                     AbstractRecommendations)


def _chunks(items: list, size: int = 500):
    for start in range(0, len(items), size):
        yield items[start:start + size]


class SqlProcessedEvents(AbstractProcessedEvents):
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._pending: set[tuple[str, str]] = set()
        self._known: set[tuple[str, str]] = set()      # keys looked up by `preload`
        self._rows: dict[tuple[str, str], dict] = {}   # new rows, written in one INSERT
        self._stored: set[tuple[str, str]] = set()

    async def preload(self, keys: set[tuple[str, str]]) -> None:
        """Look a whole batch up in one query per 500 events (instead of one per event), whatever
        their sources: the Ombudsman's 34 regional offices each publish as their own source, and
        one query per source cost a round trip each (docs/benchmarks.md, series J)."""
        row = orm.ProcessedEventRow
        for chunk in _chunks(sorted(keys)):
            found = await self.session.execute(select(row.source, row.event_id).where(
                pairs_in(self.session, (row.source, row.event_id), chunk)))
            self._stored.update((source, event_id) for source, event_id in found)
        self._known.update(keys)

    async def seen(self, source: str, event_id: str) -> bool:
        key = (source, event_id)
        if key in self._pending or key in self._stored:
            return True
        if key in self._known:
            return False
        return await self.session.get(orm.ProcessedEventRow, key) is not None

    def add(self, *, source: str, event_id: str, event_type: str, outcome: str, at: datetime) -> None:
        self._pending.add((source, event_id))
        self._rows[(source, event_id)] = dict(source=source, event_id=event_id, event_type=event_type,
                                              outcome=outcome, processed_at=at, redeliveries=0)

    async def write_new(self) -> None:
        if self._rows:
            rows, self._rows = list(self._rows.values()), {}
            await bulk.insert_rows(self.session, orm.ProcessedEventRow.__table__, rows)

    async def count_redelivery(self, source: str, event_id: str) -> None:
        if (source, event_id) in self._rows:
            self._rows[(source, event_id)]["redeliveries"] += 1
            return
        row = await self.session.get(orm.ProcessedEventRow, (source, event_id))
        if row is not None:
            row.redeliveries += 1


class SqlDirectory(AbstractDirectory):
    """Agencies and units, upserted from the events that mention them. Only
    the newest news counts: a row changes only for an assessment published at
    or after the one that last wrote it, so a redelivered or older event never
    renames a unit or an agency."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.units: dict[str, Unit] = {}          # as stored, for the names in outgoing events

    async def preload(self, mentions: list[tuple[Unit, datetime]]) -> None:
        """Upsert a batch's agencies and units (each with the `published_at` of the fresh
        assessment naming it): two reads, new rows in one insert per table, changed rows in one
        update per table (plain columns: no ORM objects for thousands of units)."""
        newest: dict[str, tuple[Unit, datetime]] = {}
        for unit, published_at in mentions:
            if unit.id not in newest or published_at >= newest[unit.id][1]:
                newest[unit.id] = (unit, published_at)
        agencies: dict[str, tuple[Unit, datetime]] = {}
        for unit, published_at in newest.values():
            if unit.agency.id not in agencies or published_at >= agencies[unit.agency.id][1]:
                agencies[unit.agency.id] = (unit, published_at)
        agency, unit_table = orm.AgencyRow.__table__, orm.UnitRow.__table__
        stored_agencies = await self._stored(agency, list(agencies))
        stored_units = await self._stored(unit_table, list(newest))
        names: dict[str, dict] = {}
        new, changed = [], []
        for agency_id, (unit, published_at) in agencies.items():
            row = stored_agencies.get(agency_id)
            if row is None or _newer(published_at, row["source_published_at"]):
                row = _queue(row, dict(id=agency_id, name=unit.agency.name, kind=unit.agency.kind.value,
                                       region_code=row["region_code"] if row else _agency_region(unit),
                                       source_published_at=published_at), new, changed)
            names[agency_id] = row
        await self._write(agency, new, changed, ("name", "kind", "source_published_at"))
        new, changed = [], []
        for unit_id, (unit, published_at) in newest.items():
            row = stored_units.get(unit_id)
            if row is None or _newer(published_at, row["source_published_at"]):
                row = _queue(row, dict(id=unit_id, name=unit.name, agency_id=unit.agency.id,
                                       region_code=unit.region_code, source_published_at=published_at), new, changed)
            owner = names.get(row["agency_id"]) or (await self._stored(agency, [row["agency_id"]]))[row["agency_id"]]
            self.units[unit_id] = Unit.model_construct(
                id=unit_id, name=row["name"], region_code=row["region_code"], agency=Agency.model_construct(
                    id=owner["id"], name=owner["name"], kind=AgencyKind(owner["kind"])))
        await self._write(unit_table, new, changed, ("name", "agency_id", "region_code", "source_published_at"))

    async def _stored(self, table, ids: list[str]) -> dict[str, dict]:
        found: dict[str, dict] = {}
        for chunk in _chunks(ids):
            rows = await self.session.execute(select(*table.c).where(one_of(self.session, table.c.id, chunk)))
            found.update((row.id, row._asdict()) for row in rows)
        return found

    async def _write(self, table, new: list[dict], changed: list[dict], columns: tuple[str, ...]) -> None:
        """Both statements keep the newest news even when another worker wrote the same rows since
        this batch read them: two workers meeting a new agency used to fail a whole batch on its
        primary key, which then went message by message (docs/benchmarks.md, series I)."""
        if new:
            dialect = self.session.bind.dialect.name
            statement = _insert_newest_wins(dialect, table, tuple(new[0]), columns)
            if dialect == "postgresql":     # one statement over arrays, not one execution per row
                await self.session.execute(statement, {name: [row[name] for row in new] for name in new[0]})
            else:
                await self.session.execute(statement, new)
        if changed:
            await self.session.execute(
                update(table).where(table.c.id == bindparam("key"),
                                    or_(table.c.source_published_at.is_(None),
                                        table.c.source_published_at <= bindparam("new_source_published_at")))
                .values({name: bindparam(f"new_{name}") for name in columns}),
                [dict({f"new_{name}": values[name] for name in columns}, key=values["id"]) for values in changed])

    async def upsert_unit(self, unit: Unit, published_at: datetime) -> None:
        if unit.id not in self.units:
            await self.preload([(unit, published_at)])

    async def agency_region(self, agency_id: str) -> str | None:
        return await self.session.scalar(select(orm.AgencyRow.region_code).where(orm.AgencyRow.id == agency_id))

    async def unit_region(self, unit_id: str) -> str | None:
        return await self.session.scalar(select(orm.UnitRow.region_code).where(orm.UnitRow.id == unit_id))


@lru_cache(maxsize=16)
def _insert_newest_wins(dialect: str, table, names: tuple[str, ...], columns: tuple[str, ...]):
    """New directory rows; a row another worker has added meanwhile takes these values only when
    they come from news at least as new as its own (the rule of `_newer`). On PostgreSQL the rows
    go as one array per column, unnested: a batch's 500 new units are one statement, where an
    `executemany` ran the statement once per row (docs/benchmarks.md, series J)."""
    if dialect == "postgresql":
        rows = func.unnest(*(bindparam(name, type_=ARRAY(table.c[name].type)) for name in names)
                           ).table_valued(*names).render_derived()
        statement = postgresql.insert(table).from_select(names, select(*(rows.c[name] for name in names)))
    else:
        statement = sqlite.insert(table)
    stored, offered = table.c.source_published_at, statement.excluded.source_published_at
    return statement.on_conflict_do_update(
        index_elements=[table.c.id], set_={name: statement.excluded[name] for name in columns},
        where=or_(stored.is_(None), stored <= offered))


def _queue(stored: dict | None, values: dict, new: list[dict], changed: list[dict]) -> dict:
    """Queue a row to insert, or to update when it differs from what is stored; answer it."""
    if stored is None:
        new.append(values)
    elif values != stored:
        changed.append(values)
    return values


def _newer(published_at: datetime, stored: datetime | None) -> bool:
    """Only news at least as new as what last wrote the row may change it."""
    return stored is None or published_at >= stored


def _agency_region(unit: Unit) -> str:
    return unit.region_code.split(".")[0] if unit.agency.kind == "pemprov" else unit.region_code


class SqlAssessments(AbstractAssessments):
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._pending: dict[str, Assessment] = {}
        self._latest: dict[str, int | None] = {}     # filled by `preload`
        self._rows: list[dict] = []                   # new rows, written in one INSERT

    async def preload(self, assessment_ids: set[str]) -> None:
        """Latest stored revision of a whole batch's assessments, in one query per 500."""
        self._latest.update(dict.fromkeys(assessment_ids))
        for chunk in _chunks(list(assessment_ids)):
            rows = await self.session.execute(
                select(orm.AssessmentRow.assessment_id, func.max(orm.AssessmentRow.revision))
                .where(one_of(self.session, orm.AssessmentRow.assessment_id, chunk))
                .group_by(orm.AssessmentRow.assessment_id))
            self._latest.update(dict(rows.all()))

    async def latest_revision(self, assessment_id: str) -> int | None:
        if assessment_id in self._pending:
            return self._pending[assessment_id].revision
        if assessment_id in self._latest:
            return self._latest[assessment_id]
        await self.write_new()
        return await self.session.scalar(select(func.max(orm.AssessmentRow.revision))
                                         .where(orm.AssessmentRow.assessment_id == assessment_id))

    def add(self, assessment: Assessment, payload_json: str, received_at: datetime) -> None:
        self._pending[assessment.assessment_id] = assessment
        self._rows.append(dict(
            assessment_id=assessment.assessment_id, revision=assessment.revision,
            framework=assessment.framework, cycle=assessment.cycle, unit_id=assessment.unit_id,
            agency_id=assessment.agency_id, score=assessment.score, official_grade=assessment.official_grade,
            computed_grade=assessment.computed_grade, grade_mismatch=assessment.grade_mismatch,
            published_at=assessment.published_at, follow_up_until=assessment.follow_up_until,
            source=assessment.source, event_id=assessment.event_id,
            payload=bulk.RawJSON(payload_json), received_at=received_at))

    async def write_new(self) -> None:
        if self._rows:
            rows, self._rows = self._rows, []
            await bulk.insert_rows(self.session, orm.AssessmentRow.__table__, rows)


def _plan_json(r: Recommendation) -> dict | None:
    return json.loads(json.dumps(r.plan.as_dict(), default=str)) if r.plan else None


# The columns a domain recommendation carries one to one (the rest is the row's own bookkeeping),
# and those stored as the value of an enumeration.
SHARED_FIELDS = tuple(f.name for f in dataclasses.fields(Recommendation)
                      if f.name in orm.RecommendationRow.__table__.c)
ENUM_FIELDS = {"scope": Scope, "priority": Priority, "status": Status}


def _recommendation_row(r: Recommendation) -> dict:
    row = {name: getattr(r, name) for name in SHARED_FIELDS}
    for name in ENUM_FIELDS:
        row[name] = row[name].value
    row.update(updated_at=r.issued_at, verified_at=None, next_assessment_id=None, next_score_ratio=None,
               score_change=None, version=1, action_plan=_plan_json(r))
    return row


def recommendation_from_row(row: orm.RecommendationRow) -> Recommendation:
    values = {name: getattr(row, name) for name in SHARED_FIELDS}
    for name, enum in ENUM_FIELDS.items():
        values[name] = enum(values[name])
    return Recommendation(**values, plan=ActionPlan.from_dict(row.action_plan) if row.action_plan else None)


class SqlRecommendations(AbstractRecommendations):
    """New recommendations are written in one multi-row INSERT (before any read
    of the table and at commit): building ORM objects for thousands of rows
    cost more than the database work."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.seen: list[Recommendation] = []
        self._new: list[Recommendation] = []
        self._open_by_unit: dict[str, list[Recommendation]] | None = None
        self._next_cycle: list[tuple[str, str, str, dict[str, float]]] = []

    async def write_new(self) -> None:
        if not self._new:
            return
        rows = [_recommendation_row(r) for r in self._new]
        self._new = []
        await bulk.insert_rows(self.session, orm.RecommendationRow.__table__, rows)

    async def preload_units(self, unit_ids: set[str]) -> None:
        """Open indicator recommendations of a batch's units, for carry-over, in one query per 500 units."""
        await self.write_new()
        self._open_by_unit = {unit_id: [] for unit_id in unit_ids}
        for chunk in _chunks(list(unit_ids)):
            rows = await self.session.scalars(select(orm.RecommendationRow).where(
                one_of(self.session, orm.RecommendationRow.unit_id, chunk),
                orm.RecommendationRow.scope == Scope.INDICATOR.value,
                orm.RecommendationRow.status.not_in([s.value for s in CLOSED_STATUSES])))
            for row in rows:
                self._open_by_unit[row.unit_id].append(recommendation_from_row(row))

    def add(self, recommendation: Recommendation) -> None:
        self.seen.append(recommendation)
        self._new.append(recommendation)

    async def for_assessment(self, assessment_id: str) -> list[Recommendation]:
        await self.write_new()
        rows = await self.session.scalars(select(orm.RecommendationRow)
                                          .where(orm.RecommendationRow.assessment_id == assessment_id))
        return [recommendation_from_row(row) for row in rows]

    async def save(self, recommendation: Recommendation, at: datetime) -> None:
        """Write back a changed recommendation if nobody changed it since it
        was read (its version); otherwise `ConcurrentChange`."""
        await self.write_new()
        self.seen.append(recommendation)
        r, table = recommendation, orm.RecommendationRow
        values = {name: getattr(r, name) for name in REVISABLE_FIELDS}
        values.update(priority=r.priority.value, status=r.status.value, updated_at=at,
                      carried_over_from=r.carried_over_from, had_action=r.had_action, extended=r.extended,
                      indicator_score=r.indicator_score, indicator_max_score=r.indicator_max_score,
                      needs_plan=r.needs_plan, action_plan=_plan_json(r), version=r.version + 1)
        if r.status is Status.VERIFIED:
            values["verified_at"] = func.coalesce(table.verified_at, literal(at, type_=orm.UTCDateTime()))
        result = await self.session.execute(
            update(table).where(table.id == r.id, table.version == r.version).values(**values)
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            raise ConcurrentChange()
        r.version += 1

    async def open_in_earlier_cycles(self, unit_id: str, cycle: str) -> list[Recommendation]:
        """Open indicator recommendations of this unit from cycles before `cycle`."""
        if self._open_by_unit is not None and unit_id in self._open_by_unit:
            return [r for r in self._open_by_unit[unit_id] if r.cycle < cycle]
        await self.write_new()
        rows = await self.session.scalars(select(orm.RecommendationRow).where(
            orm.RecommendationRow.unit_id == unit_id, orm.RecommendationRow.cycle < cycle,
            orm.RecommendationRow.scope == Scope.INDICATOR.value,
            orm.RecommendationRow.status.not_in([s.value for s in CLOSED_STATUSES])))
        return [recommendation_from_row(row) for row in rows]

    async def record_next_cycle_scores(self, unit_id: str, cycle: str, assessment_id: str,
                                       ratios: dict[str, float]) -> None:
        """Earlier cycles' recommendations of this unit will learn how their
        indicator scored next (written by `apply_next_cycle_scores`)."""
        self._next_cycle.append((unit_id, cycle, assessment_id, ratios))

    async def apply_next_cycle_scores(self) -> int:
        """One read for the whole batch: the earliest later cycle wins for each recommendation."""
        await self.write_new()
        by_unit: dict[str, list[tuple[str, str, dict[str, float]]]] = {}
        for unit_id, cycle, assessment_id, ratios in self._next_cycle:
            by_unit.setdefault(unit_id, []).append((cycle, assessment_id, ratios))
        self._next_cycle = []
        updated = 0
        latest_cycle = max((entry[0] for entries in by_unit.values() for entry in entries), default="")
        for chunk in _chunks(list(by_unit)):
            rows = await self.session.scalars(select(orm.RecommendationRow).where(
                one_of(self.session, orm.RecommendationRow.unit_id, chunk),
                orm.RecommendationRow.indicator_code.is_not(None),
                orm.RecommendationRow.cycle < latest_cycle, orm.RecommendationRow.next_assessment_id.is_(None)))
            for row in rows:
                later = sorted(entry for entry in by_unit[row.unit_id]
                               if entry[0] > row.cycle and row.indicator_code in entry[2])
                if not later:
                    continue
                _, assessment_id, ratios = later[0]
                row.next_assessment_id = assessment_id
                row.next_score_ratio = ratios[row.indicator_code]
                if row.indicator_score is not None and row.indicator_max_score:
                    row.score_change = row.next_score_ratio - row.indicator_score / row.indicator_max_score
                updated += 1
        return updated

    async def get(self, recommendation_id: str) -> Recommendation | None:
        await self.write_new()
        row = await self.session.get(orm.RecommendationRow, recommendation_id)
        return recommendation_from_row(row) if row else None


class SqlOutbox(AbstractOutbox):
    """Written in one multi-row INSERT at commit (never read inside a unit of work)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.added = 0
        self._rows: list[dict] = []

    def add(self, message: OutboundMessage, at: datetime) -> None:
        self.added += 1
        self._rows.append(dict(topic=message.topic, key=message.key, event_type=message.event_type,
                               event_id=message.event_id, value=message.value,
                               headers=[list(h) for h in message.headers], created_at=at, published_at=None))

    async def write_new(self) -> None:
        if self._rows:
            rows, self._rows = self._rows, []
            await bulk.insert_rows(self.session, orm.OutboxRow.__table__, rows)


class SqlDeadLetters(AbstractDeadLetters):
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
