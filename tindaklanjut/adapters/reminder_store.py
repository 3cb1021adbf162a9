"""SQL side of reminders: claim due work, record deliveries, lease digests.

Set-based Core statements (no ORM identity map), so a sweep's memory depends
on its batch size, not on how many recommendations are open.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from tindaklanjut.adapters import orm
from tindaklanjut.adapters.orm_reminders import (DIRTY, PLANNER_LOCK, ReminderAttemptRow, ReminderContactRow,
                                                 ReminderDeliveryRow, ReminderDigestRow, ReminderEscalationRow,
                                                 ReminderLockRow, ReminderScheduleRow)
from tindaklanjut.domain.reminders import (REMINDED_STATUSES, Channel, Contact, ContactRole, DigestLine,
                                           PlannedDelivery, PlannedEscalation, ReminderTarget)
from tindaklanjut.ports.reminders import AbstractReminderStore, ClaimedDigest, DueRow

schedule = ReminderScheduleRow.__table__
digest = ReminderDigestRow.__table__
delivery = ReminderDeliveryRow.__table__
escalation = ReminderEscalationRow.__table__
attempt = ReminderAttemptRow.__table__
contact = ReminderContactRow.__table__
lock = ReminderLockRow.__table__
rec = orm.RecommendationRow.__table__
unit = orm.UnitRow.__table__
agency = orm.AgencyRow.__table__
assessment = orm.AssessmentRow.__table__

REMINDED = sorted(s.value for s in REMINDED_STATUSES)


def due_query(now: datetime) -> sa.Select:
    """The rows a sweep at `now` must look at (also the benchmark's raw query)."""
    return (sa.select(schedule.c.recommendation_id, schedule.c.next_at, rec.c.unit_id, rec.c.agency_id,
                      rec.c.status, rec.c.due_at, unit.c.region_code, assessment.c.follow_up_until)
            .select_from(schedule.join(rec, rec.c.id == schedule.c.recommendation_id)
                         .join(unit, unit.c.id == rec.c.unit_id)
                         .outerjoin(assessment, sa.and_(assessment.c.assessment_id == rec.c.assessment_id,
                                                        assessment.c.revision == rec.c.assessment_revision)))
            .where(schedule.c.next_at <= now))


# The rows a sweep must look at, as the driver runs it (the same as `due_query`).
DUE_SQL_PG = """
SELECT s.recommendation_id, s.next_at, r.unit_id, r.agency_id, r.status, r.due_at, u.region_code, a.follow_up_until
FROM reminder_schedule s
JOIN recommendation r ON r.id = s.recommendation_id
JOIN unit u ON u.id = r.unit_id
LEFT JOIN assessment a ON a.assessment_id = r.assessment_id AND a.revision = r.assessment_revision
WHERE s.next_at <= $1
"""


class SqlReminderStore(AbstractReminderStore):
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def dialect(self) -> str:
        return self.session.bind.dialect.name

    def _in(self, column, values: Sequence):
        """`column IN values`; one array parameter on PostgreSQL instead of thousands of parameters."""
        if self.dialect == "postgresql":
            return column == sa.any_(sa.bindparam(None, list(values), type_=postgresql.ARRAY(column.type)))
        return column.in_(list(values))

    def _insert(self, table: sa.Table):
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)

    # ---------------------------------------------------------------- planning

    async def lock_planner(self, owner: str, at: datetime) -> None:
        """Serialise planners: the second one waits until the first commits,
        then finds the work already done. A crashed planner's transaction is
        rolled back and its lock released with it."""
        if self.dialect == "postgresql":
            await self.session.execute(sa.text("SET LOCAL lock_timeout = '120s'"))
        await self.session.execute(lock.update().where(lock.c.name == PLANNER_LOCK)
                                   .values(owner=owner, acquired_at=at))

    async def reconcile(self) -> int:
        """Give every recommendation that may need reminders a schedule row,
        and mark the rows whose deadline changed as due for recomputation.
        Catches new recommendations and changed deadlines whoever wrote them."""
        changed = (sa.select(rec.c.id, rec.c.due_at, sa.literal(DIRTY, schedule.c.next_at.type))
                   .select_from(rec.outerjoin(schedule, schedule.c.recommendation_id == rec.c.id))
                   .where(rec.c.status.in_(REMINDED),
                          sa.or_(schedule.c.recommendation_id.is_(None), schedule.c.basis_due_at != rec.c.due_at)))
        statement = self._insert(schedule).from_select(["recommendation_id", "basis_due_at", "next_at"], changed)
        statement = statement.on_conflict_do_update(
            index_elements=[schedule.c.recommendation_id],
            set_={"basis_due_at": statement.excluded.basis_due_at, "next_at": statement.excluded.next_at})
        result = await self.session.execute(statement)
        return max(result.rowcount or 0, 0)

    async def claim_due(self, now: datetime, *, after: tuple[datetime, str] | None, limit: int) -> list[DueRow]:
        """The next batch of due schedule rows, in (next_at, id) order after `after`.
        Only the planner (holding the planner lock) writes schedule rows, so
        reading them needs no row locks."""
        query = due_query(now)
        if after is not None:
            query = query.where(sa.tuple_(schedule.c.next_at, schedule.c.recommendation_id) > sa.tuple_(*after))
        query = (query.order_by(schedule.c.next_at, schedule.c.recommendation_id).limit(limit)
)
        rows = (await self.session.execute(query)).all()
        return [DueRow(ReminderTarget(recommendation_id=r.recommendation_id, unit_id=r.unit_id,
                                      agency_id=r.agency_id, region_code=r.region_code, status=r.status,
                                      due_at=r.due_at, cycle_end=r.follow_up_until), r.next_at) for r in rows]

    async def due_batches(self, now: datetime, batch_size: int):
        """Every due schedule row, in batches of `batch_size`. On PostgreSQL one
        query streamed through a cursor, decoded by the driver (most of the cost
        at 10,000 rows; see docs/benchmarks.md); its snapshot is fixed, so the
        planner's writes between batches do not disturb it. Elsewhere keyset
        pages on the (next_at, recommendation_id) index."""
        if self.dialect == "postgresql":
            connection = (await (await self.session.connection()).get_raw_connection()).driver_connection
            cursor = await connection.cursor(DUE_SQL_PG, now)
            while chunk := await cursor.fetch(4 * batch_size):   # fewer round trips, memory still bounded
                for start in range(0, len(chunk), batch_size):
                    yield [DueRow(ReminderTarget(r[0], r[2], r[3], r[6], r[4], r[5], r[7]), r[1])
                           for r in chunk[start:start + batch_size]]
            return
        after = None
        while batch := await self.claim_due(now, after=after, limit=batch_size):
            after = (batch[-1].next_at, batch[-1].target.recommendation_id)
            yield batch

    async def delivered(self, rec_ids: Sequence[str]) -> dict[str, set[tuple[str, str]]]:
        found: dict[str, set[tuple[str, str]]] = defaultdict(set)
        rows = await self.session.execute(sa.select(delivery.c.recommendation_id, delivery.c.step_key,
                                                    delivery.c.recipient)
                                          .where(self._in(delivery.c.recommendation_id, rec_ids)))
        for rec_id, step_key, recipient in rows:
            found[rec_id].add((step_key, recipient))
        return found

    async def escalated(self, rec_ids: Sequence[str]) -> dict[str, set[str]]:
        found: dict[str, set[str]] = defaultdict(set)
        rows = await self.session.execute(sa.select(escalation.c.recommendation_id, escalation.c.step_key)
                                          .where(self._in(escalation.c.recommendation_id, rec_ids)))
        for rec_id, step_key in rows:
            found[rec_id].add(step_key)
        return found

    async def contacts(self, agency_ids: Iterable[str]) -> list[Contact]:
        rows = await self.session.execute(sa.select(contact).where(contact.c.agency_id.in_(list(agency_ids))))
        return [Contact(agency_id=r.agency_id, unit_id=r.unit_id, role=ContactRole(r.role), name=r.name,
                        email=r.email, webhook_url=r.webhook_url) for r in rows]

    async def digests_for(self, keys: Sequence[tuple[str, date]]) -> dict[tuple[str, date], tuple[int, str]]:
        """Existing digests (id, status) for (recipient key, day)."""
        if not keys:
            return {}
        rows = await self.session.execute(sa.select(digest.c.id, digest.c.recipient, digest.c.digest_date,
                                                    digest.c.status)
                                          .where(self._in(digest.c.recipient, {k[0] for k in keys}),
                                                 self._in(digest.c.digest_date, {k[1] for k in keys})))
        wanted = set(keys)
        return {(r.recipient, r.digest_date): (r.id, r.status) for r in rows if (r.recipient, r.digest_date) in wanted}

    async def lock_pending_digests(self, ids: Sequence[int]) -> set[int]:
        """Of these digests, the ones still pending, locked until commit so a
        sender cannot freeze them while items are added."""
        if not ids:
            return set()
        rows = await self.session.execute(sa.select(digest.c.id).where(digest.c.id.in_(ids),
                                                                       digest.c.status == "pending")
                                          .with_for_update(of=digest))
        return {r.id for r in rows}

    async def create_digests(self, first: dict[tuple[str, date], PlannedDelivery], at: datetime
                             ) -> dict[tuple[str, date], int]:
        if not first:
            return {}
        values = [{"uid": str(uuid.uuid4()), "recipient": key[0], "channel": d.recipient.channel.value,
                   "address": d.recipient.address, "name": d.recipient.name, "digest_date": key[1],
                   "zone": d.zone, "status": "pending", "claims": 0, "created_at": at}
                  for key, d in first.items()]
        rows = await self.session.execute(digest.insert().returning(digest.c.id, digest.c.recipient,
                                                                    digest.c.digest_date), values)
        return {(r.recipient, r.digest_date): r.id for r in rows}

    async def add_deliveries(self, planned: Sequence[tuple[PlannedDelivery, int]], at: datetime) -> None:
        if planned:
            await self.session.execute(delivery.insert(), [
                {"recommendation_id": d.recommendation_id, "step_key": d.step.key, "step": d.step.id,
                 "offset_days": d.step.offset_days, "recipient": d.recipient.key, "roles": ",".join(d.roles),
                 "digest_id": digest_id, "status": "planned", "planned_at": at} for d, digest_id in planned])

    async def add_escalations(self, escalations: Sequence[PlannedEscalation], at: datetime) -> None:
        if escalations:
            await self.session.execute(escalation.insert(), [
                {"recommendation_id": e.recommendation_id, "step_key": e.step.key, "level": e.step.escalation_level,
                 "escalated_at": at} for e in escalations])

    async def reschedule(self, next_at: dict[str, datetime | None]) -> None:
        if next_at and self.dialect == "postgresql":
            # One statement for the whole batch instead of one UPDATE per row.
            await self.session.execute(sa.text(
                "UPDATE reminder_schedule AS s SET next_at = v.next_at "
                "FROM unnest(CAST(:ids AS text[]), CAST(:nexts AS timestamptz[])) AS v(id, next_at) "
                "WHERE s.recommendation_id = v.id"), {"ids": list(next_at), "nexts": list(next_at.values())})
        elif next_at:
            await self.session.execute(
                schedule.update().where(schedule.c.recommendation_id == sa.bindparam("rid"))
                .values(next_at=sa.bindparam("next")),
                [{"rid": rid, "next": at} for rid, at in next_at.items()])

    async def forget(self, rec_ids: Sequence[str]) -> None:
        """Closed recommendations leave the schedule (a reopened one comes back through `reconcile`)."""
        if rec_ids:
            await self.session.execute(schedule.delete().where(schedule.c.recommendation_id.in_(rec_ids)))

    async def recommendation_facts(self, rec_ids: Sequence[str]) -> dict[str, dict]:
        """What events about these recommendations say about them."""
        rows = await self.session.execute(
            sa.select(rec.c.id, rec.c.unit_id, rec.c.agency_id, rec.c.due_date, rec.c.due_at, unit.c.name,
                      unit.c.region_code)
            .select_from(rec.join(unit, unit.c.id == rec.c.unit_id)).where(rec.c.id.in_(rec_ids)))
        return {r.id: r._asdict() for r in rows}

    # ----------------------------------------------------------------- sending

    async def claim_digest(self, zones: Sequence[str], *, wall_now: datetime, lease_until: datetime, owner: str
                           ) -> ClaimedDigest | None:
        """Lease the next digest that may go out now: pending, or left
        `sending` by a sender whose lease ran out (it crashed)."""
        if not zones:
            return None
        row = None
        # Two index-friendly probes (status, id) rather than one OR: pending first, then expired leases.
        for status, extra in (("pending", sa.true()), ("sending", digest.c.lease_until < wall_now),
                              ("retrying", digest.c.lease_until < wall_now)):
            candidate = (sa.select(digest.c.id).where(digest.c.status == status, extra, digest.c.zone.in_(zones))
                         .order_by(digest.c.id).limit(1).with_for_update(skip_locked=True).scalar_subquery())
            row = (await self.session.execute(
                digest.update().where(digest.c.id == candidate)
                .values(status="sending", claims=digest.c.claims + 1, lease_owner=owner, lease_until=lease_until)
                .returning(digest.c.id, digest.c.uid, digest.c.channel, digest.c.address, digest.c.name,
                           digest.c.digest_date, digest.c.zone, digest.c.claims))).first()
            if row is not None:
                break
        if row is None:
            return None
        return ClaimedDigest(id=row.id, uid=row.uid, channel=Channel(row.channel), address=row.address, name=row.name,
                             day=row.digest_date, zone=row.zone, claims=row.claims)

    async def digest_lines(self, digest_id: int) -> list[DigestLine]:
        rows = await self.session.execute(
            sa.select(delivery.c.id, delivery.c.recommendation_id, delivery.c.step, delivery.c.step_key,
                      delivery.c.offset_days, delivery.c.roles, rec.c.status, rec.c.title, rec.c.unit_id,
                      unit.c.name.label("unit_name"), rec.c.agency_id, unit.c.region_code, rec.c.indicator_code,
                      rec.c.priority, rec.c.due_at, agency.c.kind.label("agency_kind"), rec.c.framework, rec.c.cycle,
                      rec.c.action, rec.c.evidence,
                      assessment.c.payload["evaluator"]["name"].as_string().label("evaluator"),
                      assessment.c.payload["report_ref"].as_string().label("report_ref"))
            .select_from(delivery.join(rec, rec.c.id == delivery.c.recommendation_id)
                         .join(unit, unit.c.id == rec.c.unit_id).join(agency, agency.c.id == rec.c.agency_id)
                         .outerjoin(assessment, sa.and_(assessment.c.assessment_id == rec.c.assessment_id,
                                                        assessment.c.revision == rec.c.assessment_revision)))
            .where(delivery.c.digest_id == digest_id, delivery.c.status == "planned")
            .order_by(delivery.c.id))
        return [DigestLine(delivery_id=r.id, recommendation_id=r.recommendation_id, step_id=r.step,
                           step_key=r.step_key, offset_days=r.offset_days, roles=tuple(r.roles.split(",")),
                           status=r.status, title=r.title, unit_id=r.unit_id, unit_name=r.unit_name,
                           agency_id=r.agency_id, region_code=r.region_code, indicator_code=r.indicator_code,
                           priority=r.priority, due_at=r.due_at, agency_kind=r.agency_kind, framework=r.framework,
                           cycle=r.cycle, action=r.action, evidence=r.evidence, evaluator=r.evaluator,
                           report_ref=r.report_ref) for r in rows]

    async def finish_digest(self, digest_id: int, *, status: str, at: datetime, delivered: Sequence[int],
                            dropped: Sequence[int], error: str | None = None,
                            retry_at: datetime | None = None) -> None:
        await self.session.execute(digest.update().where(digest.c.id == digest_id).values(
            status=status, sent_at=at if status == "sent" else None, lease_until=retry_at, last_error=error))
        if delivered and status != "retrying":
            await self.session.execute(delivery.update().where(delivery.c.id.in_(delivered)).values(
                status="sent" if status == "sent" else "failed", sent_at=at if status == "sent" else None))
        if dropped:
            await self.session.execute(delivery.update().where(delivery.c.id.in_(dropped))
                                       .values(status="cancelled"))

    async def start_attempt(self, digest_id: int, channel: str, number: int, at: datetime) -> int:
        return (await self.session.execute(attempt.insert().returning(attempt.c.id), [
            {"digest_id": digest_id, "channel": channel, "attempt": number, "started_at": at}])).scalar_one()

    async def finish_attempt(self, attempt_id: int, *, outcome: str, detail: str, at: datetime) -> None:
        await self.session.execute(attempt.update().where(attempt.c.id == attempt_id)
                                   .values(outcome=outcome, detail=detail[:2000], finished_at=at))

    # ---------------------------------------------------------------- contacts

    async def upsert_contacts(self, contacts: Sequence[Contact], at: datetime) -> tuple[int, int, int]:
        """Insert or update by (agency, unit, role). Returns (created, updated, unchanged)."""
        created = updated = unchanged = 0
        for c in contacts:
            row = (await self.session.execute(sa.select(contact).where(
                contact.c.agency_id == c.agency_id, contact.c.unit_id == c.unit_id,
                contact.c.role == c.role.value))).first()
            values = {"name": c.name, "email": c.email, "webhook_url": c.webhook_url}
            if row is None:
                await self.session.execute(contact.insert().values(agency_id=c.agency_id, unit_id=c.unit_id,
                                                                   role=c.role.value, updated_at=at, **values))
                created += 1
            elif any(getattr(row, k) != v for k, v in values.items()):
                await self.session.execute(contact.update().where(contact.c.id == row.id)
                                           .values(updated_at=at, **values))
                updated += 1
            else:
                unchanged += 1
        return created, updated, unchanged

    async def wake_agencies(self, agency_ids: Iterable[str]) -> int:
        """New contacts: let the next sweep reconsider these agencies' steps
        that had nobody to go to."""
        ids = sa.select(rec.c.id).where(rec.c.agency_id.in_(list(agency_ids)))
        result = await self.session.execute(schedule.update().where(schedule.c.recommendation_id.in_(ids))
                                            .values(next_at=DIRTY))
        return max(result.rowcount or 0, 0)

    async def list_contacts(self) -> list[dict]:
        rows = await self.session.execute(sa.select(contact).order_by(contact.c.agency_id, contact.c.unit_id,
                                                                      contact.c.role))
        return [dict(r._mapping) for r in rows]

    async def list_digests(self, limit: int = 200) -> list[dict]:
        counts = (sa.select(delivery.c.digest_id, sa.func.count().label("deliveries"))
                  .group_by(delivery.c.digest_id).subquery())
        tries = (sa.select(attempt.c.digest_id, sa.func.count().label("attempts"))
                 .group_by(attempt.c.digest_id).subquery())
        rows = await self.session.execute(
            sa.select(digest.c.id, digest.c.digest_date, digest.c.channel, digest.c.name, digest.c.address,
                      digest.c.status, digest.c.claims, digest.c.sent_at, digest.c.last_error,
                      sa.func.coalesce(counts.c.deliveries, 0).label("deliveries"),
                      sa.func.coalesce(tries.c.attempts, 0).label("attempts"))
            .select_from(digest.outerjoin(counts, counts.c.digest_id == digest.c.id)
                         .outerjoin(tries, tries.c.digest_id == digest.c.id))
            .order_by(digest.c.id.desc()).limit(limit))
        return [dict(r._mapping) for r in rows]
