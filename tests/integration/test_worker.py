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
