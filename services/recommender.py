"""Recommender agent: `assessment.published` -> recommendations (+ outbox)."""

from __future__ import annotations

import asyncio

import faust
import structlog

from tindaklanjut.bootstrap import Container
from tindaklanjut.config import Settings
from tindaklanjut.service_layer.messages import IngestAssessment, Origin

log = structlog.get_logger(__name__)


def register(app: faust.App, settings: Settings, container: Container) -> None:
    topic = app.topic(settings.topic("assessment.published"), value_type=bytes, key_type=bytes,
                      partitions=settings.topic_partitions)

    @app.agent(topic, name="recommender")
    async def recommender(stream):
        async for batch in stream.take_events(settings.ingest_batch_size, within=0.05):
            commands = [IngestAssessment(raw=event.value, origin=Origin(
                topic=event.message.topic, partition=event.message.partition, offset=event.message.offset))
                for event in batch]
            await ingest_until_committed(container, commands)


async def ingest_until_committed(container: Container, commands: list[IngestAssessment]) -> None:
    """Retry on infrastructure errors (database away) instead of letting
    faust acknowledge a batch that was never stored."""
    delay = 0.5
    while True:
        try:
            report = await container.ingest(commands)
            log.info("assessments.ingested", batch=len(commands), processed=report.processed,
                     duplicates=report.duplicates, dead_lettered=report.dead_lettered,
                     recommendations=report.recommendations)
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.error("assessments.ingest_failed", error=repr(exc), retry_in=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)
