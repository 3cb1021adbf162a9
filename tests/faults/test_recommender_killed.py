"""kill -9 of one of three recommender processes in the middle of 3,000 events: every
assessment is stored once, no row is duplicated, every `recommendation.issued` is published, and
a message repeated on the topic is the same message (same CloudEvents id, same bytes)."""

from __future__ import annotations

import os
import signal

from tests.conftest import wait_for
from tests.faults.helpers import database_counts, distinct_assessments, issued_on_topic, publish
from tests.kafka_helpers import settings_env, start, stop
from tindaklanjut.adapters import kafka

EVENTS = 3000


async def test_a_recommender_killed_mid_stream_loses_and_doubles_nothing(fault_settings, examples, tmp_path,
                                                                        fault_counts):
    settings = fault_settings
    url = settings.resolved_database_url
    await kafka.ensure_topics(settings)
    env = settings_env(settings)
    logs = [tmp_path / f"recommender{n}.log" for n in range(3)]
    recommenders = [start("worker", "--roles", "recommender", env=env, log=log) for log in logs]
    relay = start("worker", "--roles", "relay", env=env, log=tmp_path / "relay.log")
    try:
        async def all_started():
            return all("worker.started" in log.read_text() for log in logs)
        await wait_for(all_started, timeout=60)
        await publish(settings, distinct_assessments(examples, EVENTS))

        async def a_third_stored():
            return (await database_counts(url))["assessments"] >= EVENTS // 3
        await wait_for(a_third_stored, timeout=120, interval=0.05)
        victim = next((r for r, log in zip(recommenders, logs) if "assessments.ingested" in log.read_text()),
                      recommenders[0])
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait()
        killed_at = (await database_counts(url))["assessments"]

        async def all_stored_and_relayed():
            counts = await database_counts(url)
            return counts["assessments"] == EVENTS and counts["unpublished"] == 0 and counts
        counts = await wait_for(all_stored_and_relayed, timeout=240, interval=0.5)
    finally:
        for process in recommenders + [relay]:
            stop(process)
    assert victim.returncode == -signal.SIGKILL
    assert counts == {"assessments": EVENTS, "recommendations": EVENTS, "processed": EVENTS,
                      "issued_outbox": EVENTS, "unpublished": 0, "dead_letters": 0}
    topic = await issued_on_topic(settings, EVENTS)
    assert topic["ce_ids"] == topic["recommendations"] == EVENTS
    assert topic["repeats_differ"] == 0
    fault_counts(published=EVENTS, stored_when_killed=killed_at, assessments=counts["assessments"],
                 recommendations=counts["recommendations"], outbox_rows=counts["issued_outbox"],
                 topic_messages=topic["messages"], distinct_ce_ids=topic["ce_ids"],
                 repeated_on_topic=topic["repeated"])
