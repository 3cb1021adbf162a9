"""Outbox relay: publishes committed outbox rows to Kafka, then marks them.

At-least-once: a crash between the send and the mark republishes the rows;
consumers de-duplicate on the CloudEvents (source, id). On PostgreSQL,
several relays can run: each claims rows with FOR UPDATE SKIP LOCKED.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import structlog
from aiokafka import AIOKafkaProducer
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from tindaklanjut.adapters.orm import OutboxRow
from tindaklanjut.config import Settings

log = structlog.get_logger(__name__)


class OutboxRelay:
    def __init__(self, session_factory: async_sessionmaker, producer: AIOKafkaProducer, settings: Settings) -> None:
        self.session_factory = session_factory
        self.producer = producer
        self.settings = settings
        self.wakeup = asyncio.Event()
        self.published = 0

    def notify(self) -> None:
        """Called after a commit that wrote outbox rows: relay without waiting for the next poll."""
        self.wakeup.set()

    async def relay_once(self) -> int:
        async with self.session_factory() as session, session.begin():
            # Plain columns, not ORM objects: the relay handles several rows per assessment.
            query = (select(OutboxRow.id, OutboxRow.topic, OutboxRow.key, OutboxRow.value, OutboxRow.headers)
                     .where(OutboxRow.published_at.is_(None))
                     .order_by(OutboxRow.id).limit(self.settings.outbox_batch_size))
            if session.bind.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = (await session.execute(query)).all()
            if not rows:
                return 0
            deliveries = [
                await self.producer.send(
                    self.settings.topic(row.topic), value=row.value,
                    key=row.key.encode() if row.key is not None else None,
                    headers=[(name, value.encode()) for name, value in row.headers])
                for row in rows
            ]
            await asyncio.gather(*deliveries)
            await session.execute(update(OutboxRow).where(OutboxRow.id.in_([r.id for r in rows]))
                                  .values(published_at=datetime.now(timezone.utc)))
        self.published += len(rows)
        return len(rows)

    async def run(self) -> None:
        """Relay until cancelled; poll as a fallback for other processes' commits."""
        while True:
            try:
                if await self.relay_once() == self.settings.outbox_batch_size:
                    continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker or database away: keep the rows, try again
                log.warning("outbox.relay_failed", error=repr(exc))
                await asyncio.sleep(1.0)
            self.wakeup.clear()
            try:
                await asyncio.wait_for(self.wakeup.wait(), self.settings.outbox_poll_interval)
            except TimeoutError:
                pass
