"""Standard Kafka client plumbing (aiokafka): topics, producers, consumers."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
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


def max_request_size(settings: Settings) -> int:
    return settings.max_message_bytes + PRODUCER_OVERHEAD_BYTES


def producer(settings: Settings, **overrides) -> AIOKafkaProducer:
    options = dict(bootstrap_servers=settings.kafka_bootstrap, acks="all", linger_ms=5,
                   compression_type=settings.kafka_compression, request_timeout_ms=30000,
                   max_request_size=max_request_size(settings), **settings.kafka_security())
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


async def consumer_lag(settings: Settings, group_id: str, topics: list[str],
                       timeout: float = 3.0) -> dict[tuple[str, int], int]:
    """Messages a group has not yet consumed, per partition of `topics` it has committed on: the
    partition's end offset minus the group's committed offset. Asked through a consumer of the
    group that never joins it (OffsetFetch and ListOffsets, standard Kafka requests only)."""
    reader = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=group_id,
                              enable_auto_commit=False, request_timeout_ms=int(timeout * 1000),
                              **settings.kafka_security())
    try:
        async with asyncio.timeout(timeout):
            await reader.start()
            partitions = [TopicPartition(settings.topic(topic), partition) for topic in topics
                          for partition in sorted(reader.partitions_for_topic(settings.topic(topic)) or ())]
            committed = {}
            for tp in partitions:
                offset = await reader.committed(tp)
                if offset is not None and offset >= 0:
                    committed[tp] = offset
            ends = await reader.end_offsets(list(committed)) if committed else {}
    finally:
        await reader.stop()
    return {(tp.topic, tp.partition): max(0, ends[tp] - offset) for tp, offset in committed.items()}
