"""Outbox relay: publishes committed outbox rows to Kafka, then marks them.

At-least-once: a crash between the send and the mark republishes the rows;
consumers de-duplicate on the CloudEvents (source, id). On PostgreSQL,
several relays can run: each claims rows with FOR UPDATE SKIP LOCKED.

A row the broker refuses for good (too large, not serialisable, an invalid
topic name) is parked with its reason and never blocks the rows behind it.
Every other failure, an unknown broker error included (a broker that has
just restarted answers some requests with one), is treated as an outage: the
rows stay unpublished, to be tried again.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from functools import lru_cache

import orjson

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from aiokafka.errors import (CorruptRecordException, InvalidTopicError, MessageSizeTooLargeError,
                             RecordListTooLargeError, RecordTooLargeError, UnsupportedForMessageFormatError)
from sqlalchemy import Text, cast, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from tindaklanjut.adapters.database import NO_TURN, WriteTurn
from tindaklanjut.adapters.kafka import max_request_size
from tindaklanjut.adapters.kafka import producer as kafka_producer
from tindaklanjut.adapters.matching import one_of
from tindaklanjut.adapters.orm import OutboxRow
from tindaklanjut.config import Settings
from tindaklanjut.ports.retrying import describe

log = structlog.get_logger(__name__)

# What is wrong with the message itself: the same row would be refused again, whatever the broker's state.
MESSAGE_REFUSED: tuple[type[BaseException], ...] = (
    MessageSizeTooLargeError, RecordTooLargeError, RecordListTooLargeError, InvalidTopicError,
    CorruptRecordException, UnsupportedForMessageFormatError, TypeError, ValueError, UnicodeError,
)


PARTITION_CACHE_SIZE = 100_000     # keys remembered; cleared when full
# Record batches the relay's producer builds (aiokafka's default: 16 KiB, about twelve
# `recommendation.issued` events). Each batch is one hand-over to the producer and one entry in a
# produce request; at 16 KiB that hand-over was most of the relay's CPU (docs/benchmarks.md,
# series I). Well under a broker's default limit for one batch (1 MiB).
RECORD_BATCH_BYTES = 256 * 1024


def relay_producer(settings: Settings) -> AIOKafkaProducer:
    """The producer a relay publishes with."""
    return kafka_producer(settings, max_batch_size=RECORD_BATCH_BYTES)


@lru_cache(maxsize=1024)
def _headers(text: str) -> tuple[tuple[str, bytes], ...]:
    """A row's stored headers (JSON text of [name, value] pairs) as the producer takes them."""
    return tuple((str(name), str(value).encode()) for name, value in orjson.loads(text))


def refused_for_good(error: BaseException) -> bool:
    return isinstance(error, MESSAGE_REFUSED)


class OutboxRelay:
    def __init__(self, session_factory: async_sessionmaker, producer: AIOKafkaProducer, settings: Settings, *,
                 write_turn: WriteTurn = NO_TURN) -> None:
        self.session_factory = session_factory
        self.write_turn = write_turn
        self.producer = producer
        self.settings = settings
        self.wakeup = asyncio.Event()
        self.published = 0
        self.parked = 0
        self.record_batches = 0      # handed to the producer
        self.max_request_size = max_request_size(settings)
        self._partitioner = DefaultPartitioner()
        self._partitions: dict[tuple[str, bytes | None, int], int] = {}

    def notify(self) -> None:
        """Called after a commit that wrote outbox rows: relay without waiting for the next poll."""
        self.wakeup.set()

    async def relay_once(self) -> int:
        # The rows are read and sent outside this process's turn to write (`WriteTurn`): only the
        # marking waits for ingest. What is not committed is rolled back when the session closes.
        async with self.session_factory() as session:
            # Plain columns, not ORM objects: the relay handles several rows per assessment.
            # The headers as their JSON text: nearly every row has the same ones, decoded once (`_headers`).
            query = (select(OutboxRow.id, OutboxRow.topic, OutboxRow.key, OutboxRow.value,
                            cast(OutboxRow.headers, Text).label("headers"))
                     .where(OutboxRow.published_at.is_(None), OutboxRow.parked_at.is_(None))
                     .order_by(OutboxRow.id).limit(self.settings.outbox_batch_size))
            if session.bind.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = (await session.execute(query)).all()
            if not rows:
                return 0
            deliveries, failures = await self._send(rows)
            batches = list(dict.fromkeys(deliveries.values()))     # one delivery per record batch
            outcome_of = dict(zip(batches, await asyncio.gather(*batches, return_exceptions=True)))
            failures.update((row_id, outcome_of[delivery]) for row_id, delivery in deliveries.items()
                            if isinstance(outcome_of[delivery], BaseException))
            now = datetime.now(timezone.utc)
            published = [row.id for row in rows if row.id not in failures]
            parked = {row_id: error for row_id, error in failures.items() if refused_for_good(error)}
            async with self.write_turn:
                if published:
                    await session.execute(update(OutboxRow).where(one_of(session, OutboxRow.id, published))
                                          .values(published_at=now)
                                          .execution_options(synchronize_session=False))    # no ORM objects here
                for row_id, error in parked.items():
                    log.error("outbox.row_parked", row_id=row_id, reason=describe(error))
                    await session.execute(update(OutboxRow).where(OutboxRow.id == row_id)
                                          .values(parked_at=now, park_reason=describe(error)))
                await session.commit()
        self.published += len(published)
        self.parked += len(parked)
        if len(failures) > len(parked):      # an outage: leave the rest for the next round
            raise next(error for error in failures.values() if not refused_for_good(error))
        return len(rows)

    async def _send(self, rows) -> tuple[dict[int, asyncio.Future], dict[int, BaseException]]:
        """Hand the rows to the producer as record batches, one open batch per partition, in row
        order (so each unit's events keep their order); answer each row's delivery, and the rows
        refused before sending. One batch per partition instead of one `send` per message: the
        per-message path (partitioner, future, size check) was most of the relay's CPU."""
        deliveries: dict[int, asyncio.Future] = {}
        failures: dict[int, BaseException] = {}
        open_batches: dict[tuple[str, int], tuple[object, list[int]]] = {}
        broken: dict[tuple[str, int], BaseException] = {}     # a partition whose batch could not be handed over
        partitions: dict[str, list[int]] = {}                 # each topic's partitions, asked once a round

        async def submit(topic: str, partition: int) -> None:
            batch, row_ids = open_batches.pop((topic, partition))
            try:
                delivery = await self.producer.send_batch(batch, topic, partition=partition)
            except Exception as error:     # broker away
                failures.update(dict.fromkeys(row_ids, error))
                broken[(topic, partition)] = error
                return
            deliveries.update(dict.fromkeys(row_ids, delivery))
            self.record_batches += 1

        for row in rows:
            topic = self.settings.topic(row.topic)
            key = row.key.encode() if row.key is not None else None
            try:
                headers = list(_headers(row.headers))
                self._check_size(key, row.value, headers)
                if topic not in partitions:
                    partitions[topic] = sorted(await self.producer.partitions_for(topic))
                where = (topic, self._partition(topic, key, partitions[topic]))
                if where in open_batches and not self._append(open_batches[where], key, row, headers):
                    await submit(*where)         # full: send it, and start the next one with this row
                if where in broken:          # nothing overtakes a row that stays behind
                    raise broken[where]
                if where not in open_batches:
                    open_batches[where] = (self.producer.create_batch(), [])
                    self._append(open_batches[where], key, row, headers)     # a first record always fits
            except Exception as error:   # refused before sending (size, serialisation) or broker away
                failures[row.id] = error
        for topic, partition in list(open_batches):
            await submit(topic, partition)
        return deliveries, failures

    @staticmethod
    def _append(open_batch: tuple, key: bytes | None, row, headers: list) -> bool:
        batch, row_ids = open_batch
        if batch.append(key=key, value=row.value, timestamp=None, headers=headers) is None:
            return False
        row_ids.append(row.id)
        return True

    def _check_size(self, key: bytes | None, value: bytes, headers: list) -> None:
        """What `send` refuses before sending: a message over the producer's request size."""
        size = DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, headers)
        if size > self.max_request_size:
            raise MessageSizeTooLargeError(f"the message is {size} bytes when serialized, over the producer's "
                                           f"max_request_size of {self.max_request_size}")

    def _partition(self, topic: str, key: bytes | None, partitions: list[int]) -> int:
        """The partition the producer's own partitioner picks (keyed: murmur2 of the key, the same for
        every event of a unit), remembered per key while the topic keeps its partitions."""
        cache_key = (topic, key, len(partitions))
        if key is None or cache_key not in self._partitions:
            if len(self._partitions) > PARTITION_CACHE_SIZE:
                self._partitions.clear()
            self._partitions[cache_key] = self._partitioner(key, partitions, partitions)
        return self._partitions[cache_key]

    async def run(self) -> None:
        """Relay until cancelled; poll as a fallback for other processes' commits."""
        while True:
            # Cleared before reading, not after: a commit that notifies while this round runs
            # wakes the next round at once instead of waiting for the poll.
            self.wakeup.clear()
            try:
                if await self.relay_once() == self.settings.outbox_batch_size:
                    continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker or database away: keep the rows, try again
                log.warning("outbox.relay_failed", error=repr(exc))
                await asyncio.sleep(1.0)
            try:
                await asyncio.wait_for(self.wakeup.wait(), self.settings.outbox_poll_interval)
            except TimeoutError:
                pass
