"""What the fault tests share: many distinct assessments, a fast producer, counts read from the
database and from the topic."""

from __future__ import annotations

import copy
import json
import uuid
from collections import Counter

import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import create_async_engine

from tindaklanjut.adapters.database import async_url
from tindaklanjut.config import Settings

from tests.kafka_helpers import consume


def distinct_assessments(examples, count: int, tag: str = "f") -> list[dict]:
    """`count` assessments of distinct units, one recommendation each."""
    base = examples["ombudsman-2024-kota-jambi-dpmptsp"]
    documents = []
    for i in range(count):
        document = copy.deepcopy(base)
        document["id"] = str(uuid.uuid4())
        document["data"]["assessment_id"] += f"-{tag}{i}"
        document["data"]["unit"]["id"] += f"-{tag}{i}"
        documents.append(document)
    return documents


async def publish(settings: Settings, documents: list[dict]) -> None:
    """Send everything, then wait for every acknowledgement (acks=all)."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        futures = [await producer.send(settings.topic("assessment.published"), value=json.dumps(d).encode(),
                                       key=d["data"]["unit"]["id"].encode()) for d in documents]
        for future in futures:
            await future
    finally:
        await producer.stop()


async def database_counts(url: str) -> dict[str, int]:
    engine = create_async_engine(async_url(url))
    try:
        async with engine.connect() as conn:
            async def one(query: str) -> int:
                return (await conn.execute(sa.text(query))).scalar_one()
            return {
                "assessments": await one("SELECT count(*) FROM assessment"),
                "recommendations": await one("SELECT count(*) FROM recommendation"),
                "processed": await one("SELECT count(*) FROM processed_event WHERE outcome = 'processed'"),
                "issued_outbox": await one("SELECT count(*) FROM outbox WHERE topic = 'recommendation.issued'"),
                "unpublished": await one("SELECT count(*) FROM outbox WHERE published_at IS NULL"),
                "dead_letters": await one("SELECT count(*) FROM dead_letter"),
            }
    finally:
        await engine.dispose()


async def issued_on_topic(settings: Settings, expected: int) -> dict[str, int]:
    """Read `recommendation.issued`: messages, distinct CloudEvents ids, distinct recommendations,
    and whether every repeated id carried the same bytes."""
    messages = await consume(settings, "recommendation.issued", expected=expected, timeout=120, settle=1.0)
    bodies = [json.loads(m.value) for m in messages]
    by_id: dict[str, set[bytes]] = {}
    for message, body in zip(messages, bodies):
        by_id.setdefault(body["id"], set()).add(message.value)
    repeats = Counter(body["id"] for body in bodies)
    return {"messages": len(messages), "ce_ids": len(by_id),
            "recommendations": len({body["data"]["recommendation_id"] for body in bodies}),
            "repeated": sum(n - 1 for n in repeats.values()),
            "repeats_differ": sum(len(values) > 1 for values in by_id.values())}
