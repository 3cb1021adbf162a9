"""The recommender role's consumer: a plain Kafka group consumer (aiokafka) that hands each fetch
to the service layer whole. `assessment.published` messages of one fetch become one
`IngestAssessments` command (one transaction); `cycle.closed` messages are handled one by one.
Offsets are committed only after the work has committed (at-least-once; the handlers make a
redelivery harmless), so a crash or a rebalance redelivers, never skips.

Two fetches are in flight at most: while one is being applied (its transaction mostly waits for
the database), the next is fetched and prepared (parsed, graded, its recommendations derived),
which needs no database. The work itself stays
strictly in order, one transaction at a time, and offsets are committed in order.

Why not a faust agent: faust hands a stream over event by event (its `take` yields batches of
one under load), and per-event overhead was most of the ingest time (docs/benchmarks.md)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import faust
import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError

from tindaklanjut.adapters import kafka
from tindaklanjut.bootstrap import Container
from tindaklanjut.config import Settings
from tindaklanjut.ports.messages import IngestAssessment, Origin
from tindaklanjut.services import cycles
from tindaklanjut.services.recommender import ingest_until_committed

log = structlog.get_logger(__name__)
CONSUMED = ("assessment.published", "cycle.closed")
STOP_TIMEOUT = 3.0
METADATA_MAX_AGE_MS = 10_000


def register(app: faust.App, settings: Settings, container: Container) -> None:
    @app.task
    async def recommender_consumer() -> None:
        await run_consumer(settings, container)


def record_headers(record: ConsumerRecord) -> tuple[tuple[str, bytes], ...]:
    return tuple((str(name), value if isinstance(value, bytes) else str(value or "").encode())
                 for name, value in (record.headers or ()))


@dataclass(frozen=True, kw_only=True)
class Fetch:
    """One fetch, ready to apply: its assessments (prepared ahead), its `cycle.closed` messages and
    the offsets to commit once both are done."""

    assessments: list[IngestAssessment]
    closed: list[tuple[bytes, Origin]]
    offsets: dict[TopicPartition, int]


async def prepare_fetch(container: Container, settings: Settings,
                        fetched: dict[TopicPartition, list[ConsumerRecord]]) -> Fetch:
    assessments = settings.topic("assessment.published")
    commands, closed = [], []
    for records in fetched.values():
        for record in records:
            origin = Origin(topic=record.topic, partition=record.partition, offset=record.offset)
            if record.topic == assessments:
                commands.append(IngestAssessment(raw=record.value, key=record.key, headers=record_headers(record),
                                                 origin=origin))
            else:
                closed.append((record.value, origin))
    return Fetch(assessments=await container.prepare_ahead(commands), closed=closed,
                 offsets={tp: records[-1].offset + 1 for tp, records in fetched.items() if records})


async def apply_fetch(container: Container, fetch: Fetch) -> dict[TopicPartition, int]:
    """Do the work of one fetch; answer the offsets to commit."""
    if fetch.assessments:
        await ingest_until_committed(container, fetch.assessments)
    for raw, origin in fetch.closed:
        await cycles.handle_until_committed(container, raw, origin)
    return fetch.offsets


async def _commit(consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
    try:
        await consumer.commit(offsets)
    except (CommitFailedError, KafkaError) as error:
        # A rebalance or a broker away: the work is stored; the next owner gets a harmless redelivery.
        log.warning("consumer.commit_failed", error=repr(error))


class _LogAssignments(ConsumerRebalanceListener):
    async def on_partitions_revoked(self, revoked) -> None:
        log.info("consumer.revoked", partitions=len(revoked))

    async def on_partitions_assigned(self, assigned) -> None:
        log.info("consumer.assigned", partitions=",".join(f"{tp.topic}:{tp.partition}" for tp in sorted(assigned)))


async def run_consumer(settings: Settings, container: Container, stop: asyncio.Event | None = None) -> None:
    # Subscribed after start, with a listener; metadata refreshed often enough that a topic created
    # (or re-created) after the subscription is consumed within seconds, not after five minutes.
    consumer: AIOKafkaConsumer = kafka.consumer(settings, group_id=settings.worker_group,
                                                max_poll_records=settings.ingest_batch_size,
                                                metadata_max_age_ms=METADATA_MAX_AGE_MS)
    try:
        await consumer.start()
        consumer.subscribe([settings.topic(topic) for topic in CONSUMED], listener=_LogAssignments())
        log.info("consumer.started", group=settings.worker_group, topics=",".join(CONSUMED))
        applying: asyncio.Task | None = None       # the previous fetch, being applied
        try:
            while stop is None or not stop.is_set():
                fetched = await consumer.getmany(timeout_ms=500 if applying is None else 0,
                                                 max_records=settings.ingest_batch_size)
                if not fetched:
                    if applying is not None:
                        await _commit(consumer, await applying)
                        applying = None
                    continue
                fetch = await prepare_fetch(container, settings, fetched)
                done = await applying if applying is not None else None
                applying = asyncio.create_task(apply_fetch(container, fetch))     # the next one starts at once
                if done is not None:
                    await _commit(consumer, done)
            if applying is not None:
                await _commit(consumer, await applying)
                applying = None
        finally:
            if applying is not None:      # cancelled or failed: stop the work in hand, never commit it
                applying.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await applying
    finally:
        try:       # leave the group (its partitions move at once), but never hold up a stop for long
            await asyncio.wait_for(asyncio.shield(consumer.stop()), STOP_TIMEOUT)
        except (TimeoutError, KafkaError) as error:
            log.warning("consumer.stop_incomplete", error=repr(error))
