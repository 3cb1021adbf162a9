"""`tindaklanjut run` as a process, driven from outside like a user would."""

import asyncio
import json
import os
import signal
import subprocess
import sys

from tindaklanjut.config import Settings

from tests.conftest import free_port, wait_for
from tests.kafka_helpers import cli, consume, produce_documents, settings_env, start, stop


def _stack_settings(tmp_path) -> Settings:
    port = free_port()
    return Settings(environment="test", var_dir=tmp_path / "var", broker_port=port, api_port=free_port(),
                    kafka_bootstrap=f"127.0.0.1:{port}", topic_partitions=4)


async def _wait_running(log):
    async def running():
        return "tindaklanjut is running" in log.read_text()
    await wait_for(running, timeout=60)


def _stats(env, cwd) -> dict:
    result = cli("stats", "--format", "json", env=env, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _recommendations(env, cwd) -> list[dict]:
    result = cli("recommendations", "--format", "json", env=env, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


async def _wait_for_recommendations(env, cwd, count: int, timeout: float = 60) -> list[dict]:
    async def enough():
        rows = _recommendations(env, cwd)
        return len(rows) >= count and rows
    return await wait_for(enough, timeout=timeout, interval=0.5)


async def test_published_examples_become_eight_recommendations_once(tmp_path, examples):
    settings = _stack_settings(tmp_path)
    env = settings_env(settings)
    stack = start("run", "--no-sample-data", env=env, cwd=tmp_path, log=tmp_path / "run.log")
    try:
        await _wait_running(tmp_path / "run.log")
        await produce_documents(settings, list(examples.values()))      # plain aiokafka producer
        rows = await _wait_for_recommendations(env, tmp_path, 8)
        by_unit = {}
        for row in rows:
            by_unit[row["unit_id"]] = by_unit.get(row["unit_id"], 0) + 1
        assert by_unit == {"15.71/disdukcapil": 4, "15.71/dpmptsp": 1, "15/dinsos": 3}
        assert set(rows[0]) >= {"id", "assessment_id", "unit_id", "agency_id", "indicator_code", "priority",
                                "status", "due_date", "title"}
        assert {row["status"] for row in rows} == {"open"}

        issued = await consume(settings, "recommendation.issued", expected=8, settle=0.5)
        assert sorted(json.loads(m.value)["data"]["recommendation_id"] for m in issued) == sorted(
            row["id"] for row in rows)

        # Publishing the same events again adds nothing.
        await produce_documents(settings, list(examples.values()))
        await produce_documents(settings, [examples["pekppp-2024-prov-jambi-dinsos"] | {"id": "new-event-id"}])

        async def duplicates_seen():
            counters = _stats(env, tmp_path)
            return counters["redeliveries"] == 3 and counters["duplicate_revisions"] == 1
        await wait_for(duplicates_seen, interval=0.5)
        again = await consume(settings, "recommendation.issued", expected=9, timeout=5)
        assert len(again) == 8
        assert len(_recommendations(env, tmp_path)) == 8
    finally:
        code = stop(stack)
    assert code == 0, (tmp_path / "run.log").read_text()[-3000:]


async def test_sample_data_is_published_on_first_start_only(tmp_path):
    settings = _stack_settings(tmp_path)
    env = settings_env(settings)
    stack = start("run", env=env, cwd=tmp_path, log=tmp_path / "run1.log")
    try:
        await _wait_running(tmp_path / "run1.log")
        first = await _wait_for_recommendations(env, tmp_path, 8)
        assert len(first) == 8
    finally:
        assert stop(stack, timeout=45) == 0      # generous on a loaded machine: what matters is exit 0
    assert "published 3 sample assessments" in (tmp_path / "run1.log").read_text()

    stack = start("run", env=env, cwd=tmp_path, log=tmp_path / "run2.log")
    try:
        await _wait_running(tmp_path / "run2.log")
        assert len(await consume(settings, "assessment.published", expected=1, timeout=3)) == 0
        assert len(_recommendations(env, tmp_path)) == 8
    finally:
        stack.send_signal(signal.SIGINT)       # Ctrl-C
        assert stop(stack, timeout=45) == 0      # generous on a loaded machine: what matters is exit 0
    assert "sample assessments" not in (tmp_path / "run2.log").read_text()


async def test_the_stack_stops_even_when_its_broker_died(tmp_path):
    """Ctrl-C/SIGTERM must never be ignored: a stop that hangs on a dead broker
    ends after the grace period with a distinct exit code (70)."""
    settings = _stack_settings(tmp_path).model_copy(update={"shutdown_grace_seconds": 3.0})
    env = settings_env(settings) | {"TINDAKLANJUT_SHUTDOWN_GRACE_SECONDS": "3"}
    stack = start("run", "--no-sample-data", env=env, cwd=tmp_path, log=tmp_path / "run.log")
    try:
        async def worker_started():
            return "worker.started" in (tmp_path / "run.log").read_text()
        await wait_for(worker_started, timeout=60)
        broker_pid = int(subprocess.check_output(["pgrep", "-f", f"tcp://127.0.0.1:{settings.broker_port}"],
                                                 text=True).split()[0])
        os.kill(broker_pid, signal.SIGKILL)
        stack.send_signal(signal.SIGTERM)
        code = stack.wait(timeout=30)
    finally:
        stop(stack)
    # Whether aiokafka's shutdown hangs on the dead broker depends on timing:
    # either it stops cleanly, or the grace period ends it. Never a hang.
    assert code in (0, 70)
    if code == 70:     # the worker ended its own stop, or (caught restarting) the stack killed it
        text = (tmp_path / "run.log").read_text()
        assert "graceful stop took over 3s" in text or "the worker did not stop within 8s; killed" in text


def test_a_taken_port_gets_one_clear_line_and_a_non_zero_exit(tmp_path):
    import socket

    settings = _stack_settings(tmp_path)
    env = settings_env(settings)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", settings.api_port))
        taken.listen()
        result = subprocess.run([sys.executable, "-m", "tindaklanjut.cli", "run", "--no-sample-data"], env=env,
                                cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert f"port 127.0.0.1:{settings.api_port} for the API is already in use" in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr + result.stdout


async def test_a_second_signal_during_the_stop_does_not_cut_it_short(tmp_path):
    """Ctrl-C, then SIGTERM while it stops (a terminal and a supervisor both stopping it): the stack still
    stops its worker and its broker, prints "stopped" and exits 0."""
    settings = _stack_settings(tmp_path)
    log = tmp_path / "run.log"
    stack = start("run", "--no-sample-data", env=settings_env(settings), cwd=tmp_path, log=log)
    try:
        async def worker_started():
            return "worker.started" in log.read_text()
        await wait_for(worker_started, timeout=60)
        stack.send_signal(signal.SIGINT)
        await asyncio.sleep(0.5)                    # the stack is stopping its worker now
        stack.send_signal(signal.SIGTERM)
        code = stack.wait(timeout=40)
    finally:
        stop(stack)
    assert code == 0, log.read_text()[-2000:]
    assert log.read_text().rstrip().endswith("stopped")
    leftovers = subprocess.run(["pgrep", "-f", f"tcp://127.0.0.1:{settings.broker_port}"], capture_output=True)
    assert leftovers.returncode == 1                                   # the broker is gone too
