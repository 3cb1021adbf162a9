#!/usr/bin/env python3
"""Latency benchmark: from publishing one assessment to its `recommendation.issued` events on
the topic, on an idle stack.

What it does: starts an embedded Kafka-protocol broker (Tansu) on a free port, a fresh migrated
database (SQLite in a temporary directory, or a PostgreSQL database created and dropped through
`--database-url`) and one real worker process (`tindaklanjut worker`, every role but the
reminder scheduler, whose sweeps would measure reminder planning). A reader consumes
`recommendation.issued` from the start. Then it publishes `--count` assessments (default 200,
30 indicators, 4 of them weak: 4 recommendations each) one at a time, `--interval` seconds apart
(default 1), and for each measures the time from the send call until the reader has read the
last of its four `recommendation.issued` messages. It prints p50, p95, p99 and the maximum
(targets: p50 <= 200 ms, p99 <= 1 s), a histogram and the machine's load.

Needs: the project installed (`make test` creates .venv; it brings the broker). For PostgreSQL,
a server where the given user may CREATE and DROP DATABASE.

Run: .venv/bin/python bench/latency.py [--count 200] [--interval 1.0]
     [--database-url postgresql://postgres@127.0.0.1/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from rich.console import Console
from rich.progress import Progress

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest import Databases, encode, free_port, loadavg, make_documents, stop_process, worker_env  # noqa: E402
from tindaklanjut.adapters import kafka  # noqa: E402
from tindaklanjut.adapters.broker import EmbeddedBroker  # noqa: E402
from tindaklanjut.config import Settings  # noqa: E402

console = Console()
P50_TARGET, P99_TARGET = 0.2, 1.0
PER_ASSESSMENT = 4


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def run(args, tmp: Path) -> list[float]:
    broker = EmbeddedBroker("127.0.0.1", free_port(), log_path=tmp / "broker.log").start()
    databases = Databases(args.database_url, tmp)
    worker = None
    try:
        url = await databases.create("latency")
        settings = Settings(environment="test", database_url=url, var_dir=tmp / "var",
                            kafka_bootstrap=broker.bootstrap, broker_port=broker.port, api_port=free_port(),
                            reminders_enabled=False, topic_prefix=f"l{uuid.uuid4().hex[:6]}.")
        await kafka.ensure_topics(settings)
        with open(tmp / "worker.log", "wb") as log:
            worker = subprocess.Popen([sys.executable, "-m", "tindaklanjut.cli", "worker"],
                                      env=worker_env(settings), cwd=tmp, stdin=subprocess.DEVNULL, stdout=log,
                                      stderr=subprocess.STDOUT)
        documents = make_documents(args.count + 1, seed=int(time.time()))
        messages = encode(documents)
        arrived: dict[str, list[float]] = {}
        reader = kafka.consumer(settings, "recommendation.issued", group_id=None)
        producer = kafka.producer(settings)
        await reader.start()
        await producer.start()

        async def read() -> None:
            while True:
                for records in (await reader.getmany(timeout_ms=50)).values():
                    now = time.perf_counter()
                    for record in records:
                        assessment = json.loads(record.value)["data"]["assessment_id"]
                        arrived.setdefault(assessment, []).append(now)

        async def until_issued(assessment: str, timeout: float = 60.0) -> float:
            deadline = time.perf_counter() + timeout
            while len(arrived.get(assessment, ())) < PER_ASSESSMENT:
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"no {PER_ASSESSMENT} recommendations for {assessment} within {timeout}s")
                if worker.poll() is not None:
                    raise RuntimeError(f"the worker exited with code {worker.returncode}")
                await asyncio.sleep(0.001)
            return max(arrived[assessment][:PER_ASSESSMENT])

        reading = asyncio.create_task(read())
        topic = settings.topic("assessment.published")
        try:
            # Warm-up: the worker has joined its group and issued the first assessment's recommendations.
            key, value = messages[0]
            await producer.send_and_wait(topic, value=value, key=key)
            await until_issued(documents[0]["data"]["assessment_id"], timeout=120)
            latencies = []
            with Progress(console=console, transient=True) as progress:
                task = progress.add_task("one assessment at a time", total=args.count)
                for document, (key, value) in zip(documents[1:], messages[1:]):
                    started = time.perf_counter()
                    await producer.send_and_wait(topic, value=value, key=key)
                    done = await until_issued(document["data"]["assessment_id"])
                    latencies.append(done - started)
                    progress.advance(task)
                    await asyncio.sleep(max(0.0, started + args.interval - time.perf_counter()))
            return latencies
        finally:
            reading.cancel()
            await producer.stop()
            await reader.stop()
    finally:
        if worker is not None:
            stop_process(worker)
        broker.stop()
        await databases.drop_all()


def report(latencies: list[float], backend: str, load: tuple[float, float]) -> bool:
    p50, p95, p99 = (percentile(latencies, q) for q in (0.5, 0.95, 0.99))
    console.print(f"[bold]{len(latencies)} assessments, one at a time, {backend}[/bold] "
                  f"(load {load[0]:.1f} -> {load[1]:.1f})")
    console.print(f"p50 {p50 * 1000:.0f} ms   p95 {p95 * 1000:.0f} ms   p99 {p99 * 1000:.0f} ms   "
                  f"max {max(latencies) * 1000:.0f} ms   mean {statistics.mean(latencies) * 1000:.0f} ms")
    edges = [0.05, 0.1, 0.2, 0.5, 1.0, float("inf")]
    low = 0.0
    for edge in edges:
        count = sum(low <= value < edge for value in latencies)
        label = f"{low * 1000:>4.0f}-{edge * 1000:<5.0f}ms" if edge != float("inf") else f">= {low * 1000:.0f} ms   "
        console.print(f"  {label} {'#' * round(60 * count / len(latencies)):<60} {count}")
        low = edge
    met = p50 <= P50_TARGET and p99 <= P99_TARGET
    console.print(f"targets p50 <= {P50_TARGET * 1000:.0f} ms, p99 <= {P99_TARGET * 1000:.0f} ms: "
                  f"{'met' if met else 'missed'}")
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--database-url", default=None, help="PostgreSQL admin URL (default: SQLite)")
    args = parser.parse_args()
    before = loadavg()
    with tempfile.TemporaryDirectory(prefix="tindaklanjut-latency-") as tmp:
        latencies = asyncio.run(run(args, Path(tmp)))
    report(latencies, "postgresql" if args.database_url else "sqlite", (before, loadavg()))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
