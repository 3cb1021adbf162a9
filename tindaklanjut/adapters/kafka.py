"""Standard Kafka client plumbing (aiokafka): topics, producers, consumers."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError

from tindaklanjut.config import Settings
from tindaklanjut.events.registry import all_topics

# Room for the record's key, headers and batch framing above the value limit.
PRODUCER_OVERHEAD_BYTES = 64 * 1024


async def ensure_topics(settings: Settings, topics: list[str] | None = None, timeout: float = 30.0) -> list[str]:
    """Create every topic explicitly with the configured partition count
    (a broker may auto-create unknown topics with other settings)."""
    names = [settings.topic(t) for t in (topics or all_topics())]
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, request_timeout_ms=10000,
                                **settings.kafka_security())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            await admin.start()
            break
        except KafkaConnectionError:
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.2)
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in names if n not in existing]
        if missing:
            try:
                await admin.create_topics([NewTopic(n, settings.topic_partitions, settings.topic_replication)
                                           for n in missing])
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()
    return names


def producer(settings: Settings, **overrides) -> AIOKafkaProducer:
    options = dict(bootstrap_servers=settings.kafka_bootstrap, acks="all", linger_ms=5,
                   compression_type=settings.kafka_compression, request_timeout_ms=30000,
                   max_request_size=settings.max_message_bytes + PRODUCER_OVERHEAD_BYTES, **settings.kafka_security())
    options.update(overrides)
    return AIOKafkaProducer(**options)


def consumer(settings: Settings, *topics: str, group_id: str | None, **overrides) -> AIOKafkaConsumer:
    options = dict(bootstrap_servers=settings.kafka_bootstrap, group_id=group_id,
                   auto_offset_reset="earliest", enable_auto_commit=False,
                   session_timeout_ms=settings.kafka_session_timeout_ms,
                   heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
                   rebalance_timeout_ms=settings.kafka_rebalance_timeout_ms, **settings.kafka_security())
    options.update(overrides)
    return AIOKafkaConsumer(*(settings.topic(t) for t in topics), **options)
