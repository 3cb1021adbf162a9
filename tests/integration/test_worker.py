"""The worker process (faust agent + relay) against a real broker and both databases."""

import json

from sqlalchemy import func, select

from tindaklanjut import views
from tindaklanjut.adapters import kafka, orm
from tindaklanjut.bootstrap import bootstrap

from tests.conftest import wait_for
from tests.kafka_helpers import consume, produce, settings_env, start, stop


async def test_worker_issues_recommendations_dead_letters_and_survives_restart(kafka_settings, examples, tmp_path):
    settings = kafka_settings
    await kafka.ensure_topics(settings)
    env = settings_env(settings)
    documents = list(examples.values())
    # Invalid events interleaved with valid ones.
    bad = json.loads(json.dumps(documents[0]))
    bad["data"]["aspects"][0]["indicators"][0]["score"] = 7
    await produce(settings, "assessment.published",
                  [json.dumps(documents[0]).encode(), b"not json at all", json.dumps(bad).encode(),
                   json.dumps(documents[1]).encode(), json.dumps(documents[2]).encode()],
                  [documents[0]["data"]["unit"]["id"], None, None, documents[1]["data"]["unit"]["id"],
                   documents[2]["data"]["unit"]["id"]])

    container = bootstrap(settings)
    worker = start("worker", env=env, log=tmp_path / "worker.log")
    try:
        async def all_in():
            recs = await views.recommendations(container.sessions)
            letters = await views.dead_letters(container.sessions)
            return len(recs) == 8 and len(letters) == 2 and (recs, letters)
        recs, letters = await wait_for(all_in, timeout=60)
        assert sorted(d["reason_code"] for d in letters) == ["invalid_payload", "malformed_json"]
        assert len(await consume(settings, "recommendation.issued", expected=8, settle=0.5)) == 8
        assert len(await consume(settings, "deadletter", expected=2, settle=0.5)) == 2
    finally:
        assert stop(worker) == 0, (tmp_path / "worker.log").read_text()

    # Restart and deliver the same events again: nothing new.
    await produce(settings, "assessment.published", [json.dumps(d).encode() for d in documents],
                  [d["data"]["unit"]["id"] for d in documents])
    worker = start("worker", env=env, log=tmp_path / "worker2.log")
    try:
        async def redelivered():
            async with container.sessions() as session:
                return await session.scalar(select(func.sum(orm.ProcessedEventRow.redeliveries))) == 3
        await wait_for(redelivered, timeout=60)
        assert len(await views.recommendations(container.sessions)) == 8
        assert len(await consume(settings, "recommendation.issued", expected=9, timeout=3)) == 8
    finally:
        stop(worker)
        await container.close()


async def test_events_from_the_cloudevents_sdk_in_both_modes_are_processed(kafka_settings, examples, tmp_path):
    """What real clients send (the official SDK's structured and binary Kafka
    messages, produced by confluent-kafka (librdkafka) and by aiokafka) goes
    through the worker; a refused binary message keeps its key and `ce_*`
    headers on the dead-letter topic."""
    from aiokafka import AIOKafkaProducer
    from confluent_kafka import Producer

    from tests.unit.test_cloudevents_sdk import _v1, _v2

    settings = kafka_settings
    await kafka.ensure_topics(settings)
    documents = list(examples.values())
    messages = [_v1(documents[0], "binary"), _v2(documents[1], "binary"), _v1(documents[2], "structured")]
    broken = json.loads(json.dumps(documents[0]))
    broken["id"] = "broken-binary"
    broken["data"]["score"] = "tinggi"
    messages.append(_v2(broken, "binary"))
    librdkafka = Producer({"bootstrap.servers": settings.kafka_bootstrap, "acks": "all"})
    delivered = []
    for value, headers, key in messages[:2]:           # both SDK generations, binary mode
        librdkafka.produce(settings.topic("assessment.published"), value=value, headers=headers,
                           key=key.encode() if isinstance(key, str) else key,
                           on_delivery=lambda error, message: delivered.append(error))
    assert librdkafka.flush(30) == 0 and delivered == [None, None]
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for value, headers, key in messages[2:]:
            await producer.send_and_wait(settings.topic("assessment.published"), value=value,
                                         key=key.encode() if isinstance(key, str) else key, headers=headers)
    finally:
        await producer.stop()
    container = bootstrap(settings)
    worker = start("worker", env=settings_env(settings), log=tmp_path / "worker.log")
    try:
        async def all_in():
            recs = await views.recommendations(container.sessions)
            letters = await views.dead_letters(container.sessions)
            return len(recs) == 8 and len(letters) == 1 and letters
        [letter] = await wait_for(all_in, timeout=60)
        assert letter["reason_code"] == "invalid_payload"
        [dead] = await consume(settings, "deadletter", expected=1, settle=0.3)
        headers = dict(dead.headers)
        assert dead.key == b"15.71/disdukcapil"
        assert headers["ce_id"] == b"broken-binary" and headers["ce_type"] == b"tindaklanjut.assessment.published.v1"
        assert headers["tindaklanjut-dlq-code"] == b"invalid_payload"
    finally:
        assert stop(worker) == 0, (tmp_path / "worker.log").read_text()
        await container.close()
