"""The outbox relay publishes committed rows to a real broker, once marked."""

import json
from datetime import datetime, timezone

import httpx
from sqlalchemy import select

from tindaklanjut import views
from tindaklanjut.api.app import create_api
from tindaklanjut.domain.lifecycle import Role
from tindaklanjut.service_layer import users
from tindaklanjut.adapters import orm
from tindaklanjut.adapters.outbox_relay import OutboxRelay
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
