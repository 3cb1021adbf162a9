"""Reminder sweep and contact import (handlers; dependencies injected).

A sweep at instant `now` has two phases:

1. **Plan** (one transaction, one planner at a time): reconcile the schedule
   with the recommendations' current state, claim the schedule rows due by
   `now`, derive each recommendation's due steps from its current status and
   deadline, record every (recommendation, step, recipient) under a UNIQUE
   key in a digest (one per recipient per local day), write the
   `recommendation.escalated` events to the outbox, and move each row's
   `next_at` forward. A crash rolls all of it back.
2. **Send** (any number of senders): lease one pending digest at a time,
   send it, then mark it and its deliveries sent and write the
   `reminder.sent` events in one transaction. A sender killed mid-send leaves
   the digest `sending`; when its lease runs out another sweep sends it again
   under the same Message-ID / delivery id. A digest whose channel failed for
   a passing reason is `retrying`: a later sweep sends it again after a
   growing pause (`domain.reminders.retry_after`), up to a few claims.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import structlog

from tindaklanjut.domain import ids
from tindaklanjut.ports.reminders import AbstractReminderStore
from tindaklanjut.service_layer import commands, outbound
from tindaklanjut.ports.repositories import AbstractOutbox
from tindaklanjut.service_layer.unit_of_work import AbstractUnitOfWork
from tindaklanjut.domain.calendar import zone_for_region
from tindaklanjut.domain.reminders import (MAX_DIGEST_CLAIMS, RETRY_FIRST, Contact, ContactBook, Digest, DigestItem, DigestLine,
                                           PlannedDelivery, PlannedEscalation, ReminderPolicy, all_zones,
                                           digest_items, plan_reminders, retry_after)
from tindaklanjut.events import escalation as escalation_wire
from tindaklanjut.events import reminder as reminder_wire
from tindaklanjut.ports.messages import OutboundMessage

log = structlog.get_logger(__name__)

SOURCE = "urn:tindaklanjut:reminders"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class SweepReport:
    now: datetime
    reconciled: int = 0
    examined: int = 0
    stopped: int = 0
    deliveries: int = 0
    digests_created: int = 0
    deferred: int = 0
    escalations: int = 0
    unroutable: int = 0
    sent: int = 0
    failed: int = 0          # refused for good, or out of claims: the digest is `failed`
    retrying: int = 0        # a passing failure: the digest goes out again in a later sweep
    cancelled: int = 0
    # claim: selecting and locking the due rows; lookup: their deliveries, escalations and contacts;
    # plan: the whole planning transaction (claim and lookup included); send: leasing and sending digests.
    timings: dict[str, float] = field(default_factory=lambda: {"reconcile": 0.0, "claim": 0.0, "lookup": 0.0,
                                                               "plan": 0.0, "send": 0.0})

    def as_dict(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.__dict__.items()}


# ------------------------------------------------------------------ outbound

def escalated_message(e: PlannedEscalation, facts: dict, at: datetime) -> OutboundMessage:
    event_id = ids.name_based(uuid.NAMESPACE_URL, f"{SOURCE}/{e.recommendation_id}/escalated/{e.step.key}")
    local_day = at.astimezone(zone_for_region(facts["region_code"])).date()
    payload = escalation_wire.RecommendationEscalated(
        recommendation_id=e.recommendation_id, unit_id=facts["unit_id"], agency_id=facts["agency_id"],
        step=e.step.id, level=e.step.escalation_level, roles=[r.value for r in e.step.roles],
        notified=[escalation_wire.Notified(role=role.value, name=name) for role, name in e.notified],
        due_date=e.step.due_date, due_at=facts["due_at"], days_overdue=(local_day - e.step.due_date).days,
        escalated_at=at)
    return outbound.cloudevent(event_type=escalation_wire.EVENT_TYPE, source=SOURCE, key=facts["unit_id"],
                               data=payload, at=at, event_id=event_id)


def sent_message(*, digest: Digest, item: DigestItem, line: DigestLine, at: datetime) -> OutboundMessage:
    recipient = f"{digest.channel.value}:{digest.address}"
    event_id = ids.name_based(uuid.NAMESPACE_URL, f"{SOURCE}/{line.recommendation_id}/sent/{line.step_key}/{recipient}")
    payload = reminder_wire.ReminderSent(
        recommendation_id=item.recommendation_id, unit_id=item.unit_id, agency_id=line.agency_id, step=line.step_id,
        due_date=item.due_date, days_overdue=item.days_overdue, channel=digest.channel.value,
        recipient_roles=list(line.roles), recipient_name=digest.recipient_name, digest_id=digest.uid,
        digest_date=digest.day, sent_at=at)
    return outbound.cloudevent(event_type=reminder_wire.EVENT_TYPE, source=SOURCE, key=item.unit_id,
                               data=payload, at=at, event_id=event_id)


# ------------------------------------------------------------------ handlers

async def sweep(now: datetime, *, uow: Callable[[], AbstractUnitOfWork], policy: ReminderPolicy,
                channels: Mapping[str, object], batch_size: int = 1000, lease_seconds: float = 900.0,
                send_concurrency: int = 1, owner: str | None = None, reconcile: bool = True,
                send: bool = True, wall_clock: Callable[[], datetime] = utcnow,
                retry_first: timedelta = RETRY_FIRST) -> SweepReport:
    """One sweep as if it were `now`: plan what is due, then send the digests."""
    if now.tzinfo is None:
        raise ValueError("the sweep instant must be timezone-aware")
    owner = owner or f"sweep-{uuid.uuid4().hex[:12]}"
    report = SweepReport(now=now)
    await plan(now, uow=uow, policy=policy, batch_size=batch_size, owner=owner, reconcile=reconcile, report=report)
    if send:
        await send_digests(now, uow=uow, policy=policy, channels=channels, lease_seconds=lease_seconds,
                           concurrency=send_concurrency, owner=owner, report=report, wall_clock=wall_clock,
                           retry_first=retry_first)
    log.info("reminders.swept", **{k: v for k, v in report.as_dict().items() if k != "timings"},
             timings={k: round(v, 4) for k, v in report.timings.items()})
    return report


async def plan(now: datetime, *, uow: Callable[[], AbstractUnitOfWork], policy: ReminderPolicy, batch_size: int,
               owner: str, reconcile: bool, report: SweepReport) -> None:
    started = time.perf_counter()
    async with uow() as work:
        store = work.reminders
        await store.lock_planner(owner, now)
        if reconcile:
            t = time.perf_counter()
            report.reconciled = await store.reconcile()
            report.timings["reconcile"] += time.perf_counter() - t
        books: dict[str, ContactBook] = {}
        digests: dict[tuple[str, object], int | None] = {}   # (recipient, day) -> id, None = already out today
        batches = store.due_batches(now, batch_size)
        while True:
            t = time.perf_counter()
            batch = await anext(batches, None)
            report.timings["claim"] += time.perf_counter() - t
            if batch is None:
                break
            t = time.perf_counter()
            ids = [row.target.recommendation_id for row in batch]
            delivered = await store.delivered(ids)
            escalated = await store.escalated(ids)
            missing = {row.target.agency_id for row in batch} - books.keys()
            if missing:
                found: dict[str, list[Contact]] = {a: [] for a in missing}
                for c in await store.contacts(missing):
                    found[c.agency_id].append(c)
                books.update({a: ContactBook(cs) for a, cs in found.items()})
            report.timings["lookup"] += time.perf_counter() - t
            await _plan_batch(batch, now=now, policy=policy, store=store, outbox=work.outbox, books=books,
                              delivered=delivered, escalated=escalated, digests=digests, report=report)
        await work.commit()
    report.timings["plan"] += time.perf_counter() - started


async def _plan_batch(batch, *, now, policy, store: AbstractReminderStore, outbox: AbstractOutbox, books, delivered, escalated,
                      digests, report: SweepReport) -> None:
    report.examined += len(batch)
    plans = [plan_reminders(row.target, now=now, policy=policy, contacts=books[row.target.agency_id],
                            delivered=delivered.get(row.target.recommendation_id, set()),
                            escalated=escalated.get(row.target.recommendation_id, set())) for row in batch]
    stopped = [p.recommendation_id for p in plans if p.stop]
    report.stopped += len(stopped)
    report.unroutable += sum(len(p.unroutable) for p in plans)
    # Digests: reuse today's pending one, create it, or defer when today's already went out.
    wanted = {(d.recipient.key, d.day): d for p in plans for d in p.deliveries}
    unknown = [key for key in wanted if key not in digests]
    existing = await store.digests_for(unknown)
    still_open = await store.lock_pending_digests([i for i, _ in existing.values()])
    for key in unknown:
        if key in existing:
            digest_id, _status = existing[key]
            digests[key] = digest_id if digest_id in still_open else None
    new = {key: wanted[key] for key in unknown if key not in existing}
    created = await store.create_digests(new, now)
    digests.update(created)
    report.digests_created += len(created)
    accepted: list[tuple[PlannedDelivery, int]] = []
    next_at: dict[str, datetime | None] = {}
    for p in plans:
        if p.stop:
            continue
        when = p.next_at
        for d in p.deliveries:
            digest_id = digests[(d.recipient.key, d.day)]
            if digest_id is None:
                report.deferred += 1
                when = p.deferral if when is None else min(when, p.deferral)
            else:
                accepted.append((d, digest_id))
        next_at[p.recommendation_id] = when
    await store.add_deliveries(accepted, now)
    report.deliveries += len(accepted)
    escalations = [e for p in plans for e in p.escalations]
    if escalations:
        await store.add_escalations(escalations, now)
        facts = await store.recommendation_facts(list({e.recommendation_id for e in escalations}))
        for e in escalations:
            outbox.add(escalated_message(e, facts[e.recommendation_id], now), now)
        report.escalations += len(escalations)
    await store.reschedule(next_at)
    await store.forget(stopped)


class _Attempts:
    """Writes every try to `reminder_attempt` as it starts and as it ends."""

    def __init__(self, uow: Callable[[], AbstractUnitOfWork], digest_id: int, channel: str,
                 wall_clock: Callable[[], datetime]) -> None:
        self.uow, self.digest_id, self.channel, self.wall_clock = uow, digest_id, channel, wall_clock

    async def started(self, number: int) -> int:
        async with self.uow() as work:
            attempt_id = await work.reminders.start_attempt(self.digest_id, self.channel, number, self.wall_clock())
            await work.commit()
        return attempt_id

    async def finished(self, handle: int, outcome: str, detail: str) -> None:
        log.info("reminders.attempt", digest=self.digest_id, channel=self.channel, outcome=outcome, detail=detail)
        async with self.uow() as work:
            await work.reminders.finish_attempt(handle, outcome=outcome, detail=detail, at=self.wall_clock())
            await work.commit()


async def send_digests(now: datetime, *, uow: Callable[[], AbstractUnitOfWork], policy: ReminderPolicy,
                       channels: Mapping[str, object], lease_seconds: float, concurrency: int, owner: str,
                       report: SweepReport, wall_clock: Callable[[], datetime] = utcnow,
                       retry_first: timedelta = RETRY_FIRST) -> None:
    """Send every digest whose recipients are inside their delivery window."""
    import asyncio

    started = time.perf_counter()
    zones = [z.key for z in all_zones() if policy.window(now, z).open]

    async def worker() -> None:
        while True:
            wall = wall_clock()
            async with uow() as work:
                claimed = await work.reminders.claim_digest(zones, wall_now=wall, owner=owner,
                                                            lease_until=wall + timedelta(seconds=lease_seconds))
                if claimed is None:
                    return
                lines = await work.reminders.digest_lines(claimed.id)
                await work.commit()
            await _send_one(claimed, lines, now=now, uow=uow, channels=channels, report=report,
                            wall_clock=wall_clock, retry_first=retry_first)

    await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    report.timings["send"] += time.perf_counter() - started


async def _send_one(claimed, lines, *, now, uow, channels, report, wall_clock, retry_first) -> None:
    items, dropped = digest_items(lines, claimed.day)
    if not items:
        async with uow() as work:
            await work.reminders.finish_digest(claimed.id, status="cancelled", at=now, delivered=[], dropped=dropped)
            await work.commit()
        report.cancelled += 1
        return
    digest = Digest(uid=claimed.uid, channel=claimed.channel, address=claimed.address, recipient_name=claimed.name,
                    day=claimed.day, items=tuple(items))
    outcome = await channels[claimed.channel.value].send(
        digest, _Attempts(uow, claimed.id, claimed.channel.value, wall_clock))
    included = [i for item in items for i in item.delivery_ids]
    by_id = {line.delivery_id: line for line in lines}
    if outcome.sent:
        status, retry_at = "sent", None
    elif outcome_is_permanent(outcome) or claimed.claims >= MAX_DIGEST_CLAIMS:
        status, retry_at = "failed", None
    else:
        status, retry_at = "retrying", wall_clock() + retry_after(claimed.claims, retry_first)
    async with uow() as work:
        await work.reminders.finish_digest(claimed.id, status=status, at=now, delivered=included, dropped=dropped,
                                           error=None if outcome.sent else outcome.detail, retry_at=retry_at)
        if outcome.sent:
            for item in items:
                for delivery_id in item.delivery_ids:
                    work.outbox.add(sent_message(digest=digest, item=item, line=by_id[delivery_id], at=now), now)
        await work.commit()
    if outcome.sent:
        report.sent += 1
        return
    if status == "retrying":
        report.retrying += 1
    else:
        report.failed += 1
    log.warning("reminders.digest_failed", digest=claimed.id, channel=claimed.channel.value, detail=outcome.detail,
                status=status, retry_at=retry_at.isoformat() if retry_at else None)


def outcome_is_permanent(outcome) -> bool:
    return bool(getattr(outcome, "permanent", False))


async def run_sweep(command: commands.RunSweep, new_uow: Callable[[], AbstractUnitOfWork],
                    reminder_policy: ReminderPolicy, channels: Mapping[str, object], settings) -> SweepReport:
    return await sweep(command.now, uow=new_uow, policy=reminder_policy, channels=channels,
                       batch_size=settings.reminder_batch_size, lease_seconds=settings.reminder_lease_seconds,
                       send_concurrency=settings.reminder_send_concurrency, owner=command.owner,
                       reconcile=command.reconcile, send=command.send,
                       retry_first=timedelta(seconds=settings.reminder_retry_seconds))


async def import_contacts_command(command: commands.ImportContacts,
                                  new_uow: Callable[[], AbstractUnitOfWork]) -> tuple[int, int, int]:
    return await import_contacts(list(command.contacts), uow=new_uow, at=command.at)


async def import_contacts(contacts: list[Contact], *, uow: Callable[[], AbstractUnitOfWork],
                          at: datetime) -> tuple[int, int, int]:
    """Upsert contacts by (agency, unit, role); wake the agencies' schedules so
    steps that had nobody to go to are reconsidered."""
    async with uow() as work:
        # Schedule rows are written under the planner lock only (the planner reads them unlocked).
        await work.reminders.lock_planner(f"contacts-import-{uuid.uuid4().hex[:8]}", at)
        result = await work.reminders.upsert_contacts(contacts, at)
        await work.reminders.wake_agencies({c.agency_id for c in contacts})
        await work.commit()
    return result
