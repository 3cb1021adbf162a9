"""The broker killed (kill -9) and started again while the outbox holds rows: a relay that lived
through it publishes every held row once the broker returns, parks none, and recovers by itself.

The embedded broker keeps nothing across a restart (Apache Kafka keeps its log), so the test
recreates the topics as a cluster would still have them, checks the topic's contents from the
restart on, and starts the recommender afterwards. The relay is paused (SIGSTOP) from just before
the restart until the topics exist again: Apache Kafka's topics outlive a restart, so a relay never
meets the window in which the embedded broker would auto-create a topic on its first write while
the test creates it (the likely cause of acknowledged writes missing from the topic in CI runs). It had lived through the
outage itself for five seconds, failing and retrying, and its connections are dead when it resumes.
The recommender is started afterwards (a consumer that outlived a broker which lost
its log would resume at a position the new log has not reached; tests/e2e/test_broker_restart
covers the embedded stack's own recovery from that)."""

from __future__ import annotations

import asyncio
import json
import signal

from tindaklanjut import views
from tindaklanjut.adapters import kafka
from tindaklanjut.adapters.broker import EmbeddedBroker
from tindaklanjut.bootstrap import bootstrap
from tindaklanjut.service_layer.commands import PublishAssessment

from tests.conftest import free_port, wait_for
from tests.faults.helpers import database_counts, distinct_assessments
from tests.kafka_helpers import consume, settings_env, start, stop

WARM_UP, HELD = 50, 200


async def _accept(container, documents) -> None:
    """As the API accepts an assessment: validated, written to the outbox, nothing else."""
    for document in documents:
        await container.bus.handle(PublishAssessment(raw=json.dumps(document).encode()))


async def test_rows_held_in_the_outbox_are_published_after_the_broker_returns(fault_settings, examples, tmp_path,
                                                                            fault_counts):
    port = free_port()
    settings = fault_settings.model_copy(update={"kafka_bootstrap": f"127.0.0.1:{port}"})
    url = settings.resolved_database_url
    env = settings_env(settings)
    broker = EmbeddedBroker("127.0.0.1", port, log_path=tmp_path / "broker.log").start()
    container = bootstrap(settings)
    relay = recommender = None
    try:
        await kafka.ensure_topics(settings)
        relay = start("worker", "--roles", "relay", env=env, log=tmp_path / "relay.log")
        documents = distinct_assessments(examples, WARM_UP + HELD)
        await _accept(container, documents[:WARM_UP])
        warm = await consume(settings, "assessment.published", expected=WARM_UP, timeout=60)
        assert len(warm) == WARM_UP

        broker.process.kill()
        broker.process.wait()
        await _accept(container, documents[WARM_UP:])
        await asyncio.sleep(5)                        # the relay tries and fails meanwhile
        held = (await database_counts(url))["unpublished"]
        assert held == HELD and relay.poll() is None

        relay.send_signal(signal.SIGSTOP)
        try:
            broker = EmbeddedBroker("127.0.0.1", port, log_path=tmp_path / "broker.log").start()
            await kafka.ensure_topics(settings)
        finally:
            relay.send_signal(signal.SIGCONT)

        async def all_relayed():
            return (await database_counts(url))["unpublished"] == 0
        await wait_for(all_relayed, timeout=120, interval=0.5)
        after = await consume(settings, "assessment.published", expected=HELD, timeout=60, settle=1.0)
        held_ids = {d["id"] for d in documents[WARM_UP:]}
        on_topic = [json.loads(m.value)["id"] for m in after]
        missing = held_ids - set(on_topic)
        assert not missing, (f"{len(missing)} of {HELD} relayed rows not on the topic; relay log:\n"
                             + (tmp_path / "relay.log").read_text()[-3000:])
        assert set(on_topic) == held_ids

        recommender = start("worker", "--roles", "recommender", env=env, log=tmp_path / "recommender.log")

        async def stored_and_relayed():
            counts = await database_counts(url)
            return counts["assessments"] == HELD and counts["unpublished"] == 0 and counts
        counts = await wait_for(stored_and_relayed, timeout=120, interval=0.5)
        assert relay.poll() is None
        parked = (await views.stats(container.sessions))["outbox_parked"]
    finally:
        codes = [stop(process) for process in (relay, recommender) if process is not None]
        broker.stop()
        await container.close()
    assert codes == [0, 0], (tmp_path / "relay.log").read_text()[-3000:]
    assert counts["recommendations"] == counts["issued_outbox"] == HELD and counts["dead_letters"] == 0
    assert parked == 0
    fault_counts(held_in_outbox=held, published_after_restart=len(on_topic), distinct_on_topic=len(set(on_topic)),
                 parked=parked, assessments=counts["assessments"], recommendations=counts["recommendations"])

