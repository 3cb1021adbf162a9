"""The outbox relay publishes committed rows to a real broker, once marked."""

import json
from datetime import datetime, timezone

from sqlalchemy import select

from tindaklanjut.adapters import kafka, orm
from tindaklanjut.adapters.outbox_relay import OutboxRelay
from tindaklanjut.bootstrap import bootstrap
from tindaklanjut.service_layer.messages import IngestAssessment, Origin
from tindaklanjut.service_layer.outbound import DLQ_REASON_HEADER

from tests.kafka_helpers import consume


async def test_relay_publishes_recommendations_and_dead_letters(kafka_settings, examples):
    settings = kafka_settings
    await kafka.ensure_topics(settings)
    container = bootstrap(settings, clock=lambda: datetime(2024, 12, 21, tzinfo=timezone.utc))
    producer = kafka.producer(settings)
    await producer.start()
    try:
        raw = [json.dumps(d).encode() for d in examples.values()] + [b'{"broken": ']
        await container.ingest([IngestAssessment(raw=r, origin=Origin(topic="assessment.published", offset=i))
                                for i, r in enumerate(raw)])
        relay = OutboxRelay(container.sessions, producer, settings)
        assert await relay.relay_once() == 9
        assert await relay.relay_once() == 0          # marked: nothing is sent twice
        async with container.sessions() as session:
            unpublished = (await session.scalars(select(orm.OutboxRow).where(orm.OutboxRow.published_at.is_(None)))).all()
        assert unpublished == []
    finally:
        await producer.stop()
        await container.close()

    issued = await consume(settings, "recommendation.issued", expected=8, settle=0.5)
    assert len(issued) == 8
    assert sorted({m.key.decode() for m in issued}) == ["15.71/disdukcapil", "15.71/dpmptsp", "15/dinsos"]
    bodies = [json.loads(m.value) for m in issued]
    assert len({b["id"] for b in bodies}) == 8
    assert {b["type"] for b in bodies} == {"tindaklanjut.recommendation.issued.v1"}

    [letter] = await consume(settings, "deadletter", expected=1, settle=0.3)
    assert letter.value == b'{"broken": '
    reason = json.loads(dict(letter.headers)[DLQ_REASON_HEADER])
    assert reason["code"] == "malformed_json" and reason["offset"] == 3
