"""The outbox relay publishes committed rows to a real broker, once marked."""

import asyncio
import copy
import json
from datetime import datetime, timezone

import httpx
import pytest
from aiokafka.errors import KafkaConnectionError
from aiokafka.partitioner import DefaultPartitioner
from sqlalchemy import select

from tindaklanjut import views
from tindaklanjut.api.app import create_api
from tindaklanjut.domain.lifecycle import Role
from tindaklanjut.service_layer import users
from tindaklanjut.adapters import orm
from tindaklanjut.adapters.outbox_relay import OutboxRelay, relay_producer
from tindaklanjut.ports.messages import IngestAssessment, Origin, OutboundMessage
from tindaklanjut.service_layer.outbound import DEAD_LETTER_VALUE_MAX, DLQ_REASON_HEADER, DLQ_TRUNCATED_HEADER

from tests.kafka_helpers import consume, relay_container


async def test_relay_publishes_recommendations_and_dead_letters(kafka_settings, examples):
    settings = kafka_settings
    async with relay_container(settings) as (container, producer):
        raw = [json.dumps(d).encode() for d in examples.values()] + [b'{"broken": ']
        await container.ingest([IngestAssessment(raw=r, origin=Origin(topic="assessment.published", offset=i))
                                for i, r in enumerate(raw)])
        relay = OutboxRelay(container.sessions, producer, settings)
        assert await relay.relay_once() == 9
        assert await relay.relay_once() == 0          # marked: nothing is sent twice
        async with container.sessions() as session:
            unpublished = (await session.scalars(select(orm.OutboxRow).where(orm.OutboxRow.published_at.is_(None)))).all()
        assert unpublished == []

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


async def test_a_dead_letter_over_a_mebibyte_does_not_stop_the_relay(kafka_settings, examples):
    """An invalid message as large as a default producer may send (1,048,300
    bytes): its dead letter is cut to fit the broker with its headers, and
    everything after it is still published."""
    settings = kafka_settings
    huge = b'{"data": "' + b"x" * (1_048_300 - 12) + b'"}'
    async with relay_container(settings) as (container, producer):
        raws = [huge] + [json.dumps(d).encode() for d in examples.values()]
        await container.ingest([IngestAssessment(raw=r, origin=Origin(topic="assessment.published", offset=i))
                                for i, r in enumerate(raws)])
        relay = OutboxRelay(container.sessions, producer, settings)
        assert await relay.relay_once() == 9
        assert (relay.published, relay.parked) == (9, 0)
        assert (await views.stats(container.sessions))["outbox_pending"] == 0
    [letter] = await consume(settings, "deadletter", expected=1, settle=0.3)
    headers = dict(letter.headers)
    assert json.loads(headers[DLQ_REASON_HEADER])["code"] == "unsupported_type"
    assert int(headers[DLQ_TRUNCATED_HEADER]) == len(huge)
    assert letter.value == huge[:DEAD_LETTER_VALUE_MAX]
    assert len(await consume(settings, "recommendation.issued", expected=8)) == 8


async def test_a_row_the_broker_refuses_is_parked_and_the_rows_behind_it_flow(kafka_settings, examples):
    settings = kafka_settings
    async with relay_container(settings) as (container, producer):
        async with container.uow() as uow:       # a message no producer limit allows, first in line
            uow.outbox.add(OutboundMessage(topic="recommendation.issued", key="x", event_type="test", event_id="big",
                                           value=b"x" * (settings.max_message_bytes + 128 * 1024)),
                           datetime(2024, 12, 21, tzinfo=timezone.utc))
            await uow.commit()
        await container.ingest([IngestAssessment(raw=json.dumps(d).encode(),
                                                 origin=Origin(topic="assessment.published", offset=i))
                                for i, d in enumerate(examples.values())])
        relay = OutboxRelay(container.sessions, producer, settings)
        await relay.relay_once()
        assert (relay.published, relay.parked) == (8, 1)
        assert await relay.relay_once() == 0                  # parked rows are not tried again
        stats = await views.stats(container.sessions)
        assert (stats["outbox_pending"], stats["outbox_parked"]) == (0, 1)
        [parked] = await views.parked_outbox(container.sessions)
        assert parked["event_id"] == "big" and "MessageSizeTooLarge" in parked["reason"]
        token = await users.add_user(container.uow, "ori", Role.EVALUATOR)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_api(container)),
                                     base_url="http://api") as client:
            status = (await client.get("/api/v1/status", headers={"Authorization": f"Bearer {token}"})).json()
        assert status["outbox_parked"] == 1 and status["outbox_parked_rows"][0]["event_id"] == "big"
    assert len(await consume(settings, "recommendation.issued", expected=8, settle=0.3)) == 8


async def test_batched_rows_keep_each_units_order_on_the_producers_own_partition(kafka_settings):
    """Rows go out as record batches (several per partition when one fills up): every unit's
    events arrive in row order, on the partition a plain `send` of that key would pick."""
    settings = kafka_settings
    keys = [f"15.{n:02d}/dinas-{n}" for n in range(7)]
    at = datetime(2024, 12, 21, tzinfo=timezone.utc)
    async with relay_container(settings) as (container, producer):
        async with container.uow() as uow:
            for sequence in range(300):      # ~1.5 KB each: a 16 KiB record batch fills up after ten
                key = keys[sequence % 7]
                uow.outbox.add(OutboundMessage(topic="recommendation.issued", key=key, event_type="test",
                                               event_id=f"e-{sequence}", headers=[("urutan", str(sequence))],
                                               value=json.dumps({"seq": sequence, "isi": "x" * 1500}).encode()), at)
            await uow.commit()
        relay = OutboxRelay(container.sessions, producer, settings)
        while await relay.relay_once():
            pass
        assert (relay.published, relay.parked) == (300, 0)
        partitions = sorted(await producer.partitions_for(settings.topic("recommendation.issued")))
    received = await consume(settings, "recommendation.issued", expected=300, settle=0.3)
    assert len(received) == 300
    by_key: dict[str, list[int]] = {}
    for message in sorted(received, key=lambda m: (m.partition, m.offset)):
        key = message.key.decode()
        assert message.partition == DefaultPartitioner()(message.key, partitions, partitions), key
        assert dict(message.headers)["urutan"] == str(json.loads(message.value)["seq"]).encode()
        by_key.setdefault(key, []).append(json.loads(message.value)["seq"])
    assert by_key == {key: list(range(index, 300, 7)) for index, key in enumerate(keys)}
    assert len({m.partition for m in received}) > 1


async def test_when_a_batch_cannot_be_handed_over_nothing_behind_it_overtakes_it(kafka_settings):
    """One hand-over fails after a partition's first batch: the rest of that partition's rows
    stay unpublished for this round (an outage, tried again), even though the broker would take
    the next batch; other partitions flow, and every unit's events still arrive in order."""
    settings = kafka_settings
    at = datetime(2024, 12, 21, tzinfo=timezone.utc)

    class GoneAfterOneBatch:
        def __init__(self, producer, partition: int) -> None:
            self.producer, self.partition, self.handed = producer, partition, 0

        def create_batch(self):
            return self.producer.create_batch()

        async def partitions_for(self, topic):
            return await self.producer.partitions_for(topic)

        async def send_batch(self, batch, topic, *, partition):
            if partition == self.partition:
                self.handed += 1
                if self.handed == 2:      # a blip: the batches after it would be handed over fine
                    raise KafkaConnectionError("broker away")
            return await self.producer.send_batch(batch, topic, partition=partition)

    async with relay_container(settings) as (container, producer):
        async with container.uow() as uow:
            for sequence in range(150):
                uow.outbox.add(OutboundMessage(topic="recommendation.issued", key=f"unit-{sequence % 3}",
                                               event_type="test", event_id=f"e-{sequence}",
                                               value=json.dumps({"seq": sequence, "isi": "x" * 1500}).encode()), at)
            await uow.commit()
        partitions = sorted(await producer.partitions_for(settings.topic("recommendation.issued")))
        crowded = DefaultPartitioner()(b"unit-0", partitions, partitions)
        flaky = OutboxRelay(container.sessions, GoneAfterOneBatch(producer, crowded), settings)
        with pytest.raises(KafkaConnectionError):
            await flaky.relay_once()
        async with container.sessions() as session:
            pending = sorted(int(e[2:]) for e in await session.scalars(
                select(orm.OutboxRow.event_id).where(orm.OutboxRow.published_at.is_(None))))
        on_crowded = [k for k in range(3) if DefaultPartitioner()(f"unit-{k}".encode(), partitions,
                                                                  partitions) == crowded]
        assert 0 in [seq % 3 for seq in pending]
        for k in range(3):      # each key: a published head, then an unpublished tail; other partitions flowed
            tail = [seq for seq in pending if seq % 3 == k]
            assert tail == (list(range(tail[0], 150, 3)) if tail else []), k
            assert not tail or k in on_crowded
        assert flaky.published == 150 - len(pending)
        relay = OutboxRelay(container.sessions, producer, settings)
        while await relay.relay_once():
            pass
    received = await consume(settings, "recommendation.issued", expected=150, settle=0.3)
    by_key: dict[str, list[int]] = {}
    for message in sorted(received, key=lambda m: (m.partition, m.offset)):
        by_key.setdefault(message.key.decode(), []).append(json.loads(message.value)["seq"])
    assert by_key == {f"unit-{k}": list(range(k, 150, 3)) for k in range(3)}


async def test_the_relay_sends_during_ingest_and_marks_in_its_turn_to_write(kafka_settings, examples):
    """SQLite has one writer at a time: the relay sends while ingest holds the process's turn to
    write, and marks the rows as soon as that turn is over, not after a busy-handler sleep.
    PostgreSQL writes concurrently, so there the turn holds nothing up."""
    settings = kafka_settings
    async with relay_container(settings) as (container, producer):
        await container.ingest([IngestAssessment(raw=json.dumps(d).encode(),
                                                 origin=Origin(topic="assessment.published", offset=i))
                                for i, d in enumerate(examples.values())])
        relay = OutboxRelay(container.sessions, producer, settings, write_turn=container.write_turn)
        sqlite = container.engine.dialect.name == "sqlite"

        async def unpublished() -> int:
            async with container.sessions() as session:
                return len((await session.scalars(select(orm.OutboxRow.id)
                                                  .where(orm.OutboxRow.published_at.is_(None)))).all())

        async with container.write_turn:         # as an ingest batch does while it writes
            relaying = asyncio.create_task(relay.relay_once())
            issued = await consume(settings, "recommendation.issued", expected=8)
            assert len(issued) == 8               # sent while ingest writes
            if sqlite:
                await asyncio.sleep(0.2)
                assert not relaying.done() and container.write_turn.taken
                assert await unpublished() == 8   # marked only in the relay's turn
            else:
                assert await relaying == 8
        assert await relaying == 8
        assert await unpublished() == 0


async def test_ingest_waits_for_the_turn_to_write_on_sqlite(kafka_settings, examples):
    settings = kafka_settings
    async with relay_container(settings) as (container, _producer):
        commands = [IngestAssessment(raw=json.dumps(d).encode(), origin=Origin(topic="assessment.published", offset=i))
                    for i, d in enumerate(examples.values())]
        async with container.write_turn:         # as the relay does while it marks rows
            ingesting = asyncio.create_task(container.ingest(commands))
            if container.engine.dialect.name == "sqlite":
                await asyncio.sleep(0.3)
                assert not ingesting.done()
            else:                                  # PostgreSQL: no turn to wait for
                await asyncio.wait_for(asyncio.shield(ingesting), 30)
        assert (await ingesting).processed == len(commands)


async def test_the_relay_hands_a_round_to_the_producer_in_a_few_large_record_batches(kafka_settings, examples):
    """80 `recommendation.issued` events (about 120 KB) in one round: one record batch per partition
    with the relay's producer, where aiokafka's default 16 KiB batches would take a dozen; every
    event arrives, each unit's in order."""
    settings = kafka_settings
    documents = []
    for round_ in range(10):
        for document in examples.values():
            fresh = copy.deepcopy(document)
            fresh["id"] = f"{document['id']}-{round_}"
            fresh["data"]["assessment_id"] += f"-{round_}"
            documents.append(fresh)
    async with relay_container(settings) as (container, default_producer):
        await container.ingest([IngestAssessment(raw=json.dumps(d).encode(),
                                                 origin=Origin(topic="assessment.published", offset=i))
                                for i, d in enumerate(documents)])
        producer = relay_producer(settings)
        await producer.start()
        try:
            relay = OutboxRelay(container.sessions, producer, settings)
            assert await relay.relay_once() == 80
        finally:
            await producer.stop()
    assert relay.record_batches <= settings.topic_partitions
    issued = await consume(settings, "recommendation.issued", expected=80)
    assert len({json.loads(m.value)["id"] for m in issued}) == 80
    position = {d["data"]["assessment_id"]: index for index, d in enumerate(documents)}
    for key in {m.key for m in issued}:
        arrivals = [position[json.loads(m.value)["data"]["assessment_id"]] for m in issued if m.key == key]
        assert arrivals == sorted(arrivals)
