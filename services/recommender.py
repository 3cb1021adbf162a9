"""Recommender: `assessment.published` -> recommendations (+ outbox), one fetch at a time."""

from __future__ import annotations

import structlog

from tindaklanjut.bootstrap import Container
from tindaklanjut.observability import INGEST_BATCH_EVENTS, INGEST_BATCH_SECONDS
from tindaklanjut.ports.messages import IngestAssessment

log = structlog.get_logger(__name__)


async def ingest_until_committed(container: Container, commands: list[IngestAssessment]) -> None:
    """Ingest a batch; its offsets are committed only after this returns (outages
    are retried until they end; a poison message is dead-lettered)."""
    with INGEST_BATCH_SECONDS.time():
        report = await container.ingest(commands)
    INGEST_BATCH_EVENTS.observe(len(commands))
    log.info("assessments.ingested", batch=len(commands), processed=report.processed,
             duplicates=report.duplicates, dead_lettered=report.dead_lettered,
             recommendations=report.recommendations, ce_ids=",".join(report.stored))
