"""Roles as processes: a recommender-only worker (with a health port) and a
relay-and-API worker share the work of one full worker, on a real broker and
both databases."""

import json
import re

import httpx

from tindaklanjut import views
from tindaklanjut.adapters import kafka
from tindaklanjut.bootstrap import bootstrap

from tests.conftest import free_port, wait_for
from tests.kafka_helpers import consume, produce, settings_env, start, stop


async def test_a_recommender_and_a_relay_with_the_api_run_as_separate_processes(kafka_settings, examples, tmp_path):
    settings = kafka_settings
    await kafka.ensure_topics(settings)
    documents = list(examples.values())
    await produce(settings, "assessment.published", [json.dumps(d).encode() for d in documents],
                  [d["data"]["unit"]["id"] for d in documents])
    health_port = free_port()
    consumer_env = settings_env(settings) | {"TINDAKLANJUT_HEALTH_PORT": str(health_port)}
    container = bootstrap(settings)
    recommender = start("worker", "--roles", "recommender", env=consumer_env, log=tmp_path / "recommender.log")
    front = None
    try:
        async def stored():
            return len(await views.recommendations(container.sessions)) == 8
        await wait_for(stored, timeout=60)
        # Nothing relays yet: the recommender-only process does not publish its outbox.
        assert await consume(settings, "recommendation.issued", expected=1, timeout=2) == []
        async with httpx.AsyncClient() as client:
            async def healthy():
                try:
                    return (await client.get(f"http://127.0.0.1:{health_port}/healthz")).status_code == 200
                except httpx.HTTPError:
                    return False
            await wait_for(healthy, timeout=30)
            ready = await client.get(f"http://127.0.0.1:{health_port}/readyz")
            assert ready.status_code == 200, ready.text
            assert (await client.get(f"http://127.0.0.1:{health_port}/api/v1/recommendations")).status_code == 404
            # The recommender's own measurements and the group's lag, read from the brokers.
            own = (await client.get(f"http://127.0.0.1:{health_port}/metrics")).text
            batches = float(re.search(r"^tindaklanjut_ingest_batch_seconds_count (\S+)$", own, re.M).group(1))
            events = float(re.search(r"^tindaklanjut_ingest_batch_events_sum (\S+)$", own, re.M).group(1))
            assert batches >= 1 and events == 3
            assert "tindaklanjut_consumer_lag_up 1.0" in own
            lag = re.findall(r'^tindaklanjut_consumer_lag\{partition="(\d+)",topic="([^"]+)"\} (\S+)$', own, re.M)
            assert lag and {topic for _, topic, _ in lag} >= {settings.topic("assessment.published")}
            assert all(float(behind) == 0 for *_, behind in lag)
            front = start("worker", "--roles", "relay,api", env=settings_env(settings), log=tmp_path / "front.log")
            assert len(await consume(settings, "recommendation.issued", expected=8, settle=0.5, timeout=60)) == 8

            async def api_up():
                try:
                    answer = await client.get(f"http://127.0.0.1:{settings.api_port}/healthz")
                    return answer.status_code == 200
                except httpx.HTTPError:
                    return False
            await wait_for(api_up, timeout=30)
            metrics = (await client.get(f"http://127.0.0.1:{settings.api_port}/metrics")).text
            assert 'tindaklanjut_events_processed{outcome="processed"' in metrics
        logged = (tmp_path / "recommender.log").read_text()
        assert "worker.roles" in logged
        assert all(d["id"] in logged for d in documents)      # the batch line names each stored CloudEvent
    finally:
        assert stop(recommender) == 0, (tmp_path / "recommender.log").read_text()[-3000:]
        if front is not None:
            assert stop(front) == 0, (tmp_path / "front.log").read_text()[-3000:]
        await container.close()
