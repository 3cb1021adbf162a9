"""Recommender agent: `assessment.published` -> recommendations (+ outbox)."""

from __future__ import annotations

import faust
import structlog

from tindaklanjut.bootstrap import Container
from tindaklanjut.config import Settings
from tindaklanjut.observability import INGEST_BATCH_EVENTS, INGEST_BATCH_SECONDS
from tindaklanjut.ports.messages import IngestAssessment, Origin

log = structlog.get_logger(__name__)


def register(app: faust.App, settings: Settings, container: Container) -> None:
    topic = app.topic(settings.topic("assessment.published"), value_type=bytes, key_type=bytes,
                      partitions=settings.topic_partitions)

    @app.agent(topic, name="recommender")
    async def recommender(stream):
        async for batch in stream.take_events(settings.ingest_batch_size, within=0.05):
            commands = [IngestAssessment(raw=event.value, key=event.message.key, headers=kafka_headers(event),
                                         origin=Origin(topic=event.message.topic, partition=event.message.partition,
                                                       offset=event.message.offset))
                        for event in batch]
            await ingest_until_committed(container, commands)


def kafka_headers(event) -> tuple[tuple[str, bytes], ...]:
    """A message's headers as (name, bytes) pairs, whichever shape the client gave them in."""
    headers = event.message.headers or ()
    items = headers.items() if isinstance(headers, dict) else headers
    return tuple((str(name), value if isinstance(value, bytes) else str(value).encode()) for name, value in items)


async def ingest_until_committed(container: Container, commands: list[IngestAssessment]) -> None:
    """Ingest a batch; faust acknowledges it only after this returns (outages
    are retried until they end; a poison message is dead-lettered)."""
    with INGEST_BATCH_SECONDS.time():
        report = await container.ingest(commands)
    INGEST_BATCH_EVENTS.observe(len(commands))
    log.info("assessments.ingested", batch=len(commands), processed=report.processed,
             duplicates=report.duplicates, dead_lettered=report.dead_lettered,
             recommendations=report.recommendations)
