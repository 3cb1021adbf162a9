"""Acceptance: a Kafka client that is not Python (kafkajs, from the npm registry)
publishes the three contract examples to the embedded broker started by
`tindaklanjut run` (what `make run` starts) and reads the resulting
`recommendation.issued` events.

The Node.js side lives in `tests/e2e/node/` (`roundtrip.mjs`, kafkajs pinned in
`package.json` and `package-lock.json`). `node_modules/` is installed with
`npm ci` when it is missing or does not match the lock file; a machine without
`node`/`npm` fails this test (CI installs them, see `.ci/run`).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from tindaklanjut.adapters.broker import port_open
from tindaklanjut.config import Settings

from tests.conftest import CONTRACT_DIR, free_port, wait_for
from tests.kafka_helpers import cli, settings_env, start, stop
from tests.e2e.node_packages import NODE_DIR, ensure_node_modules

ROUNDTRIP = NODE_DIR / "roundtrip.mjs"

EXPECTED_BY_UNIT = {"15.71/disdukcapil": 4, "15.71/dpmptsp": 1, "15/dinsos": 3}
EXPECTED_TOTAL = sum(EXPECTED_BY_UNIT.values())
ISSUED_TYPE = "tindaklanjut.recommendation.issued.v1"


@pytest.fixture(scope="module")
def node_client() -> list[str]:
    """`node roundtrip.mjs`, with its locked dependencies installed."""
    return [ensure_node_modules(), str(ROUNDTRIP)]


def _stack_settings(tmp_path: Path) -> Settings:
    port = free_port()
    return Settings(environment="test", var_dir=tmp_path / "var", broker_port=port, api_port=free_port(),
                    kafka_bootstrap=f"127.0.0.1:{port}",
                    database_url=f"sqlite:///{tmp_path / 'tindaklanjut.db'}")


def _log_tail(log: Path, chars: int = 4000) -> str:
    return log.read_text("utf-8", errors="replace")[-chars:] if log.exists() else "(no log)"


async def _wait_until_ready(stack: subprocess.Popen, settings: Settings, log: Path, timeout: float = 60) -> None:
    """Broker port open, database migrated and topics created (`run` says so),
    and the worker's consumer group has a member and is stable."""
    def alive() -> None:
        if stack.poll() is not None:
            raise AssertionError(f"`tindaklanjut run` exited with {stack.returncode}:\n{_log_tail(log)}")

    async def broker_listening():
        alive()
        return port_open(settings.broker_host, settings.broker_port)
    await wait_for(broker_listening, timeout=timeout)

    async def stack_running():
        alive()
        return "tindaklanjut is running" in log.read_text("utf-8", errors="replace")
    await wait_for(stack_running, timeout=timeout)

    # The faust app id is the consumer group of the recommender (services/worker.py).
    group = f"{settings.consumer_group}-recommender"
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, request_timeout_ms=5000)
    await admin.start()
    try:
        async def worker_joined():
            alive()
            [response] = await admin.describe_consumer_groups([group])
            _error, _name, state, _ptype, _protocol, members = response.groups[0][:6]
            return state == "Stable" and len(members) > 0 and state
        try:
            await wait_for(worker_joined, timeout=timeout, interval=0.2)
        except AssertionError as exc:
            raise AssertionError(f"worker group {group!r} never became Stable ({exc}); "
                                 f"log:\n{_log_tail(log)}") from None
    finally:
        await admin.close()


async def _roundtrip(node_client: list[str], settings: Settings, timeout_s: float = 90) -> tuple[int, list[dict], str]:
    args = [*node_client, "--bootstrap", settings.kafka_bootstrap, "--prefix", settings.topic_prefix,
            "--expected", str(EXPECTED_TOTAL), "--timeout-ms", str(int(timeout_s * 1000)),
            "--settle-ms", "500", str(CONTRACT_DIR)]
    process = await asyncio.create_subprocess_exec(
        *args, cwd=NODE_DIR, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if not k.startswith(("KAFKA", "TOPIC_", "TINDAKLANJUT_"))})
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout_s + 30)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"node roundtrip.mjs did not exit within {timeout_s + 30}s") from None
    records = [json.loads(line) for line in stdout.decode("utf-8").splitlines() if line.strip()]
    return process.returncode, records, stderr.decode("utf-8", errors="replace")


async def test_node_client_publishes_examples_and_reads_recommendations(tmp_path, node_client):
    settings = _stack_settings(tmp_path)
    env = settings_env(settings)
    log = tmp_path / "run.log"
    stack = start("run", "--no-sample-data", env=env, cwd=tmp_path, log=log)
    try:
        await _wait_until_ready(stack, settings, log)

        code, records, stderr = await _roundtrip(node_client, settings)
        context = f"node exit {code}\nstderr:\n{stderr[-3000:]}\nstack log:\n{_log_tail(log)}"
        assert code == 0, context

        published = [r for r in records if r["record"] == "published"]
        received = [r for r in records if r["record"] == "received"]
        [summary] = [r for r in records if r["record"] == "summary"]
        assert summary["ok"] and summary["output_topic"] == "recommendation.issued", summary

        # The three examples went to assessment.published, keyed by unit id.
        assert sorted(r["file"] for r in published) == sorted(p.name for p in CONTRACT_DIR.glob("*.json"))
        assert {r["topic"] for r in published} == {"assessment.published"}
        assert sorted(r["key"] for r in published) == sorted(EXPECTED_BY_UNIT)

        # Exactly eight recommendation.issued CloudEvents came back (nothing more within the settle time).
        assert len(received) == EXPECTED_TOTAL, context
        for record in received:
            event = record["event"]
            assert record["topic"] == "recommendation.issued"
            assert event is not None, f"not JSON: {record.get('raw')!r}"
            assert event["specversion"] == "1.0"
            assert event["type"] == ISSUED_TYPE
            assert event["id"] and event["source"] and event["time"]
            assert event["datacontenttype"] == "application/json"
            assert record["key"] == event["data"]["unit"]["id"], record
        assert Counter(r["key"] for r in received) == EXPECTED_BY_UNIT
        assert Counter(r["event"]["data"]["unit"]["id"] for r in received) == EXPECTED_BY_UNIT
        assert len({(r["event"]["source"], r["event"]["id"]) for r in received}) == EXPECTED_TOTAL

        # The database agrees: the same eight recommendations.
        result = cli("recommendations", "--format", "json", env=env, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        rows = json.loads(result.stdout)
        assert sorted(row["id"] for row in rows) == sorted(r["event"]["data"]["recommendation_id"] for r in received)
        assert Counter(row["unit_id"] for row in rows) == EXPECTED_BY_UNIT
    finally:
        code = stop(stack)   # SIGTERM, like a service manager
    assert code == 0, f"`tindaklanjut run` exited with {code} on SIGTERM:\n{_log_tail(log)}"
