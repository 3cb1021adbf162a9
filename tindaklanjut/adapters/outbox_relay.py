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

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import (CorruptRecordException, InvalidTopicError, MessageSizeTooLargeError,
                             RecordListTooLargeError, RecordTooLargeError, UnsupportedForMessageFormatError)
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from tindaklanjut.adapters.orm import OutboxRow
from tindaklanjut.config import Settings
from tindaklanjut.ports.retrying import describe

log = structlog.get_logger(__name__)

# What is wrong with the message itself: the same row would be refused again, whatever the broker's state.
MESSAGE_REFUSED: tuple[type[BaseException], ...] = (
    MessageSizeTooLargeError, RecordTooLargeError, RecordListTooLargeError, InvalidTopicError,
    CorruptRecordException, UnsupportedForMessageFormatError, TypeError, ValueError, UnicodeError,
)


def refused_for_good(error: BaseException) -> bool:
    return isinstance(error, MESSAGE_REFUSED)


class OutboxRelay:
    def __init__(self, session_factory: async_sessionmaker, producer: AIOKafkaProducer, settings: Settings) -> None:
        self.session_factory = session_factory
        self.producer = producer
        self.settings = settings
        self.wakeup = asyncio.Event()
        self.published = 0
        self.parked = 0

    def notify(self) -> None:
        """Called after a commit that wrote outbox rows: relay without waiting for the next poll."""
        self.wakeup.set()

    async def relay_once(self) -> int:
        async with self.session_factory() as session, session.begin():
            # Plain columns, not ORM objects: the relay handles several rows per assessment.
            query = (select(OutboxRow.id, OutboxRow.topic, OutboxRow.key, OutboxRow.value, OutboxRow.headers)
                     .where(OutboxRow.published_at.is_(None), OutboxRow.parked_at.is_(None))
                     .order_by(OutboxRow.id).limit(self.settings.outbox_batch_size))
            if session.bind.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = (await session.execute(query)).all()
            if not rows:
                return 0
            deliveries, failures = {}, {}
            for row in rows:
                try:
                    deliveries[row.id] = await self.producer.send(
                        self.settings.topic(row.topic), value=row.value,
                        key=row.key.encode() if row.key is not None else None,
                        headers=[(name, value.encode()) for name, value in row.headers])
                except Exception as error:   # refused before sending (size, serialisation) or broker away
                    failures[row.id] = error
            outcomes = await asyncio.gather(*deliveries.values(), return_exceptions=True)
            failures.update((row_id, outcome) for row_id, outcome in zip(deliveries, outcomes)
                            if isinstance(outcome, BaseException))
            now = datetime.now(timezone.utc)
            published = [row.id for row in rows if row.id not in failures]
            parked = {row_id: error for row_id, error in failures.items() if refused_for_good(error)}
            if published:
                await session.execute(update(OutboxRow).where(OutboxRow.id.in_(published)).values(published_at=now))
            for row_id, error in parked.items():
                log.error("outbox.row_parked", row_id=row_id, reason=describe(error))
                await session.execute(update(OutboxRow).where(OutboxRow.id == row_id)
                                      .values(parked_at=now, park_reason=describe(error)))
        self.published += len(published)
        self.parked += len(parked)
        if len(failures) > len(parked):      # an outage: leave the rest for the next round
            raise next(error for error in failures.values() if not refused_for_good(error))
        return len(rows)

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
