"""Command handlers. They take their dependencies as arguments; `bootstrap`
wires the real ones, tests pass fakes."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import orjson
import structlog

from tindaklanjut.domain.frameworks import FrameworkCatalogue
from tindaklanjut.domain.policy import Policy
from tindaklanjut.service_layer import outbound
from tindaklanjut.ports.messages import IngestAssessment, Origin, OutboundMessage
from tindaklanjut.events.wire import DEFAULT_LIMITS, Limits
from tindaklanjut.service_layer import commands
from tindaklanjut.ports.retrying import describe
from tindaklanjut.service_layer.isolation import handle_isolating
from tindaklanjut.service_layer.preparing import Prepared, Received, prepare
from tindaklanjut.ports.validation import Rejected, parse_assessment

log = structlog.get_logger(__name__)


@dataclass
class IngestReport:
    processed: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    recommendations: int = 0
    stored: list[str] = field(default_factory=list)     # CloudEvents ids of the events stored, for the log

    def add(self, other: "IngestReport") -> "IngestReport":
        return IngestReport(self.processed + other.processed, self.duplicates + other.duplicates,
                            self.dead_lettered + other.dead_lettered, self.recommendations + other.recommendations,
                            self.stored + other.stored)


async def ingest_assessments(commands: Sequence[IngestAssessment], *, uow, catalogue: FrameworkCatalogue,
                             policy: Policy, clock: Callable[[], datetime],
                             limits: Limits = DEFAULT_LIMITS) -> IngestReport:
    """Validate, store and derive recommendations for a batch of raw
    assessment messages, in one transaction. Invalid ones are dead-lettered
    (with their reason and original bytes) in the same transaction, so a
    crash either keeps all of the batch or none of it."""
    report = IngestReport()
    async with uow:
        valid: list[Prepared] = []
        for command in commands:
            prepared = command.prepared
            if prepared is None or (isinstance(prepared, Prepared) and prepared.spent):     # not ahead, or tried before
                prepared = prepare(command, catalogue=catalogue, policy=policy, limits=limits, clock=clock)
            if isinstance(prepared, Rejected):
                if await dead_letter(uow, command.raw, command.origin, prepared, at=clock(), key=command.key,
                                     headers=command.headers):
                    report.dead_lettered += 1
            else:
                valid.append(prepared)
        if valid:
            # Read what the whole batch needs up front: a few queries per batch, not six per event.
            events = [item.event for item in valid]
            await uow.processed.preload({(event.source, event.id) for event in events})
            await uow.assessments.preload({event.assessment_id for event in events})
            # Only fresh news may change the directory (not a redelivery, not an older revision).
            await uow.directory.preload([(event.unit, event.published_at) for event in events
                                         if await _is_fresh(uow, event)])
            await uow.recommendations.preload_units({event.unit.id for event in events})
        for item in valid:
            report.recommendations += await _ingest(item, uow=uow, report=report)
        await uow.write_while(uow.collect_events)       # the outbox messages, built while the rows are written
        await uow.recommendations.apply_next_cycle_scores()
        await uow.commit()
    return report


async def ingest(command: commands.IngestAssessments, new_uow: Callable[[], object], catalogue: FrameworkCatalogue,
                 policy: Policy, clock: Callable[[], datetime], limits: Limits,
                 poison_max_tries: int) -> IngestReport:
    """A batch in one transaction; a message that fails for another reason
    than an outage is isolated and dead-lettered after bounded tries."""
    reports = await handle_isolating(
        command.messages, name="assessments.ingest", max_tries=poison_max_tries,
        handle=lambda batch: ingest_assessments(batch, uow=new_uow(), catalogue=catalogue, policy=policy,
                                                clock=clock, limits=limits),
        dead_letter=lambda message, error: dead_letter_unprocessable(new_uow(), message, error, clock=clock))
    total = IngestReport()
    for report in reports:
        total = total.add(report)
    return total


async def publish_assessment(command: commands.PublishAssessment, new_uow: Callable[[], object],
                             catalogue: FrameworkCatalogue, limits: Limits,
                             clock: Callable[[], datetime]) -> OutboundMessage:
    """An assessment published over HTTP: validated, then written to the
    outbox in one transaction, so an accepted request is never lost (the relay
    publishes it; the recommender de-duplicates on its CloudEvents id)."""
    raw = command.raw
    event = parse_assessment(raw, catalogue, limits)
    message = outbound.assessment_accepted(raw, event_id=event.id, unit_id=event.data.unit.id)
    uow = new_uow()
    async with uow:
        uow.outbox.add(message, clock())
        await uow.commit()
    return message


async def dead_letter_unprocessable(uow, command: IngestAssessment, error: BaseException, *,
                                    clock: Callable[[], datetime]) -> IngestReport:
    """A message that failed again and again (not an outage): dead-letter it
    with the error as its reason so the partition moves on."""
    async with uow:
        stored = await dead_letter(uow, command.raw, command.origin,
                                   Rejected("processing_failed", describe(error)), at=clock(), key=command.key,
                                   headers=command.headers)
        await uow.commit()
    return IngestReport(dead_lettered=int(stored))


async def dead_letter(uow, raw: bytes, origin: Origin, rejected: Rejected, *, at: datetime, key: bytes | None = None,
                      headers: tuple[tuple[str, bytes], ...] = ()) -> bool:
    """Keep a refused message (reason, original bytes) and queue it for the
    dead-letter topic; False when this very message was dead-lettered before."""
    sha256 = hashlib.sha256(raw).hexdigest()
    if await uow.dead_letters.exists(topic=origin.topic, partition=origin.partition, offset=origin.offset,
                                     sha256=sha256):
        return False  # the same message redelivered after a crash
    uow.dead_letters.add(topic=origin.topic, partition=origin.partition, offset=origin.offset, sha256=sha256,
                         reason_code=rejected.code, reason=rejected.message, errors=rejected.errors,
                         raw=raw, at=at)
    uow.outbox.add(outbound.dead_letter(raw=raw, key=key, headers=headers, origin_topic=origin.topic,
                                        partition=origin.partition, offset=origin.offset, code=rejected.code,
                                        message=rejected.message, errors=rejected.errors, at=at, sha256=sha256), at)
    log.warning("message.dead_lettered", topic=origin.topic, code=rejected.code, reason=rejected.message,
                offset=origin.offset, ce_id=cloudevent_id(raw, headers))
    return True


def cloudevent_id(raw: bytes, headers: tuple[tuple[str, bytes], ...] = ()) -> str | None:
    """The CloudEvents id of a message, even a refused one, for log correlation: the `ce_id`
    header (binary mode) or the document's `id` (structured mode); None when neither is readable."""
    for name, value in headers:
        if name == "ce_id":
            return value.decode("utf-8", "replace")[:200]
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    found = document.get("id") if isinstance(document, dict) else None
    return str(found)[:200] if isinstance(found, (str, int)) else None


async def _is_fresh(uow, event: Received) -> bool:
    if await uow.processed.seen(event.source, event.id):
        return False
    latest = await uow.assessments.latest_revision(event.assessment_id)
    return latest is None or event.revision > latest


async def _ingest(prepared: Prepared, *, uow, report: IngestReport) -> int:
    event, assessment, at = prepared.event, prepared.assessment, prepared.at
    if await uow.processed.seen(event.source, event.id):
        await uow.processed.count_redelivery(event.source, event.id)
        report.duplicates += 1
        log.info("assessment.redelivered", ce_id=event.id, ce_source=event.source)
        return 0
    latest = await uow.assessments.latest_revision(event.assessment_id)
    if latest is not None and event.revision <= latest:
        uow.processed.add(source=event.source, event_id=event.id, event_type=event.type,
                          outcome="duplicate_revision", at=at)
        report.duplicates += 1
        log.info("assessment.older_revision", ce_id=event.id, ce_source=event.source,
                 assessment=event.assessment_id, revision=event.revision, latest=latest)
        return 0
    await uow.directory.upsert_unit(event.unit, event.published_at)
    uow.assessments.add(assessment, prepared.payload_json, at)
    prepared.spent = True
    recommendations = list(prepared.recommendations)
    existing = {r.id: r for r in await uow.recommendations.for_assessment(event.assessment_id)} if latest else {}
    previous_cycle = {} if latest else {
        r.indicator_code: r for r in await uow.recommendations.open_in_earlier_cycles(event.unit.id, event.cycle)}
    issued = 0
    for recommendation in recommendations:
        earlier = existing.pop(recommendation.id, None)
        if earlier is None:
            carried = previous_cycle.get(recommendation.indicator_code) if recommendation.indicator_code else None
            recommendation.carried_over_from = carried.id if carried else None
            uow.recommendations.add(recommendation)
            issued += 1
        else:
            earlier.revise(recommendation)
            await uow.recommendations.save(earlier, at)
    for stale in existing.values():
        stale.supersede(at)
        await uow.recommendations.save(stale, at)
    if not latest:
        await uow.recommendations.record_next_cycle_scores(event.unit.id, event.cycle, event.assessment_id,
                                                           prepared.ratios)
    uow.processed.add(source=event.source, event_id=event.id, event_type=event.type, outcome="processed", at=at)
    report.processed += 1
    report.stored.append(event.id)      # one log line per batch names them all (services.recommender)
    return issued
