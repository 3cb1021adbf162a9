"""The embedded broker killed (kill -9) in the middle of a publish: the stack
restarts it, recreates its topics, publishes its outbox again and keeps
consuming; `stats` says from when input may have been lost, and publishing
again from then stores everything exactly once."""

import asyncio
import json
import os
import re
import signal
import subprocess

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from tests.conftest import wait_for
from tests.faults.helpers import distinct_assessments
from tests.e2e.test_run import _recommendations, _stack_settings, _stats
from tests.kafka_helpers import consume, settings_env, start, stop

EVENTS = 600


def _documents(examples) -> list[dict]:
    return distinct_assessments(examples, EVENTS, tag="")         # one recommendation each


async def _publish(settings, documents, on_acked=None) -> int:
    """Publish one by one, as an evaluator's client would: an unacknowledged
    send is tried again until the broker takes it."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all", request_timeout_ms=5000,
                                retry_backoff_ms=200)
    await producer.start()
    acked = 0
    try:
        for document in documents:
            value = json.dumps(document).encode()
            for _ in range(100):
                try:
                    await producer.send_and_wait(settings.topic("assessment.published"), value=value,
                                                 key=document["data"]["unit"]["id"].encode())
                    break
                except KafkaError:
                    await asyncio.sleep(0.2)
            else:
                raise AssertionError("the broker never came back")
            acked += 1
            if on_acked:
                on_acked(acked)
    finally:
        await producer.stop()
    return acked


async def test_a_broker_killed_mid_publish_loses_nothing_that_cannot_be_recovered(tmp_path, examples):
    settings = _stack_settings(tmp_path)
    env = settings_env(settings)
    log = tmp_path / "run.log"
    stack = start("run", "--no-sample-data", env=env, cwd=tmp_path, log=log)
    try:
        async def worker_started():
            return "worker.started" in log.read_text()
        await wait_for(worker_started, timeout=60)
        documents = _documents(examples)
        third = EVENTS // 3
        # A first third stored and its recommendations relayed to the broker that is about to die.
        await _publish(settings, documents[:third])

        async def first_third_relayed():
            return len(_recommendations(env, tmp_path)) == third and _stats(env, tmp_path)["outbox_pending"] == 0
        await wait_for(first_third_relayed, timeout=60, interval=0.5)
        killed = {}

        def kill_soon(acked: int) -> None:
            if acked == 50 and not killed:
                pid = int(subprocess.check_output(["pgrep", "-f", f"tcp://127.0.0.1:{settings.broker_port}"],
                                                  text=True).split()[0])
                os.kill(pid, signal.SIGKILL)
                killed["pid"] = pid

        assert await _publish(settings, documents[third:], kill_soon) == EVENTS - third
        assert killed

        async def restart_reported():
            return _stats(env, tmp_path)["broker_restarts"] == 1
        await wait_for(restart_reported, timeout=60, interval=0.5)
        stats = _stats(env, tmp_path)
        assert stats["input_may_be_lost_since"] is not None

        # The worker consumes again: what was published after the restart is stored.
        async def after_restart_stored():
            return len(_recommendations(env, tmp_path)) >= EVENTS - 60
        await wait_for(after_restart_stored, timeout=90, interval=1.0)

        # What the dead broker acknowledged and lost: the evaluator publishes again (idempotent).
        await _publish(settings, documents)

        async def all_stored():
            return len(_recommendations(env, tmp_path)) == EVENTS
        await wait_for(all_stored, timeout=120, interval=1.0)
        rows = _recommendations(env, tmp_path)
        assert len({row["assessment_id"] for row in rows}) == EVENTS      # each once

        # Every recommendation is on the (new) broker's topic: the outbox was published again.
        async def all_relayed():
            return _stats(env, tmp_path)["outbox_pending"] == 0
        await wait_for(all_relayed, timeout=60, interval=0.5)
        issued = await consume(settings, "recommendation.issued", expected=EVENTS, timeout=60)
        assert {json.loads(m.value)["data"]["recommendation_id"] for m in issued} == {row["id"] for row in rows}
    finally:
        code = stop(stack)
    third = EVENTS // 3
    text = log.read_text()
    republished = int(re.search(r"broker restarted; (\d+) outbox messages published again", text).group(1))
    assert republished >= third        # what the dead broker held went out again
    assert code == 0, text[-3000:]
