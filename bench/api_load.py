#!/usr/bin/env python3
"""Capacity benchmark: 200 concurrent API clients for 30 s on the overdue view and the
recommendation list at 1,000,000 recommendations, while a recommender consumes.

What it does: creates a fresh PostgreSQL database, migrates it and bulk-loads N
recommendations (the loader of bench/overdue.py), adds a secretary for one province and a user
for one regency, starts the embedded broker and the roles as separate processes, as a
deployment by role runs them: `tindaklanjut worker --roles api` (its own process and connection
pool) and `tindaklanjut worker --roles recommender,relay`. Then, in the same run:
- ingestion delay, idle: assessments published one at a time (`--probes`, 0.5 s apart), each
  timed from the send call until its row is in the database;
- under load: a separate client process runs `--clients` concurrent clients for `--seconds`,
  each asking in turn `GET /api/v1/overdue?region=15&limit=20&items=20` (secretary: a page of 20
  governments with the 20 longest-overdue items of each; `--items 0` asks for every item) and
  `GET /api/v1/recommendations?limit=50` (regency), while the same ingestion probes run.
It prints requests, errors, throughput and p50/p95/p99 per endpoint, the ingestion delay idle
and under load, the machine's load, then drops the database.
Targets (issue 12): no error, p99 under 1 s, ingestion delay unchanged.

Needs: PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth; override with BENCH_POSTGRES)
and the project installed (`make test` creates .venv).

Run: .venv/bin/python bench/api_load.py [--rows 1000000] [--clients 200] [--seconds 30] [--items 20] [--api-replicas 1]
     [--repeat 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import aiohttp
import asyncpg
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest import encode, loadavg, make_documents  # noqa: E402
from overdue import ADMIN_DSN, NOW, free_port, load, wait_ready  # noqa: E402
from tindaklanjut.adapters import kafka, migrate  # noqa: E402
from tindaklanjut.adapters.broker import EmbeddedBroker  # noqa: E402
from tindaklanjut.bootstrap import bootstrap  # noqa: E402
from tindaklanjut.config import Settings  # noqa: E402
from tindaklanjut.domain.lifecycle import Role  # noqa: E402
from tindaklanjut.service_layer import users  # noqa: E402

console = Console()
P99_TARGET = 1.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))] if ordered else float("nan")


# --------------------------------------------------------------------------- the client process

async def clients(bases: list[str], tokens: dict[str, str], count: int, seconds: float, items: int) -> dict:
    """`count` concurrent clients for `seconds`; answers latencies and statuses per endpoint.

    aiohttp, not httpx: at 200 connections httpx's pool spent about 14 ms of CPU per request and
    made this process, not the API, the bottleneck (90 % of a core at 66 requests/s)."""
    overdue = {"region": "15", "limit": "20"} | ({"items": str(items)} if items else {})
    requests = {
        "overdue": ("/api/v1/overdue", overdue, tokens["secretary"]),
        "list": ("/api/v1/recommendations", {"limit": "50"}, tokens["regency"]),
    }
    results = {name: {"latencies": [], "statuses": {}, "slow_at": []} for name in requests}
    began = time.perf_counter()
    # Client n talks to replica n mod r, as a load balancer spreads connections.
    # Idle connections are dropped by the client before the server's keep-alive limit (5 s) could
    # close one under a request that is being sent.
    sessions = [aiohttp.ClientSession(base, connector=aiohttp.TCPConnector(limit=count, keepalive_timeout=2),
                                      timeout=aiohttp.ClientTimeout(total=60)) for base in bases]
    stop_at = time.perf_counter() + seconds

    async def one(number: int) -> None:
        names = list(requests)
        turn = number
        session = sessions[number % len(sessions)]
        while time.perf_counter() < stop_at:
            name = names[turn % 2]
            path, params, token = requests[name]
            started = time.perf_counter()
            try:
                async with session.get(path, params=params, headers={"Authorization": f"Bearer {token}"}) as answer:
                    await answer.read()
                    status = str(answer.status)
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                status = type(error).__name__
            results[name]["latencies"].append(time.perf_counter() - started)
            if time.perf_counter() - started > P99_TARGET:     # when in the run the slow answers were asked
                results[name]["slow_at"].append(round(started - began, 1))
            results[name]["statuses"][status] = results[name]["statuses"].get(status, 0) + 1
            turn += 1

    try:
        await asyncio.gather(*(one(n) for n in range(count)))
    finally:
        for session in sessions:
            await session.close()
    return results


# --------------------------------------------------------------------------- the stack

def start_role(roles: str, env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tindaklanjut.cli", "worker", "--roles", roles], env=env,
                            stdout=open(log, "wb"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


async def server_side(bases: list[str]) -> dict[str, str]:
    """Per route, the share of answers within each latency bucket, summed over the API replicas."""
    buckets: dict[str, dict[str, float]] = {}
    async with aiohttp.ClientSession() as session:
        for base in bases:
            async with session.get(f"{base}/metrics") as answer:
                text = await answer.text()
            for line in text.splitlines():
                if line.startswith("tindaklanjut_http_request_seconds_bucket") and "/api/v1/" in line:
                    labels, value = line.rsplit(" ", 1)
                    route = labels.split('route="')[1].split('"')[0]
                    bound = labels.split('le="')[1].split('"')[0]
                    counts = buckets.setdefault(route, {})
                    counts[bound] = counts.get(bound, 0) + float(value)
    return {route.rsplit("/", 1)[-1]: " / ".join(f"{counts.get(b, 0) / counts['+Inf']:.0%}"
                                                   for b in ("0.1", "0.25", "0.5", "1.0", "2.5"))
            for route, counts in buckets.items() if counts.get("+Inf")}


async def probe_ingestion(settings: Settings, dsn: str, documents: list[dict], interval: float) -> list[float]:
    """Publish one assessment at a time; each delay from the send call until its row is stored."""
    producer = kafka.producer(settings)
    conn = await asyncpg.connect(dsn)
    await producer.start()
    delays = []
    try:
        for key, value in encode(documents):
            assessment = json.loads(value)["data"]["assessment_id"]
            started = time.perf_counter()
            await producer.send_and_wait(settings.topic("assessment.published"), value=value, key=key)
            while not await conn.fetchval("SELECT 1 FROM assessment WHERE assessment_id = $1", assessment):
                if time.perf_counter() - started > 120:
                    raise TimeoutError(f"{assessment} not stored within 120 s")
                await asyncio.sleep(0.005)
            delays.append(time.perf_counter() - started)
            await asyncio.sleep(max(0.0, started + interval - time.perf_counter()))
    finally:
        await producer.stop()
        await conn.close()
    return delays


async def load_round(args, settings: Settings, dsn: str, bases: list[str], tokens: dict[str, str],
                     idle: list[float], probes: list[dict]) -> float:
    """One round of the client load with ingestion probes; prints its table, answers its worst p99."""
    load_before = loadavg()
    client = subprocess.Popen([sys.executable, __file__, "--client-mode", json.dumps(bases), json.dumps(tokens),
                               str(args.clients), str(args.seconds), str(args.items)], stdout=subprocess.PIPE)
    await asyncio.sleep(2)                                             # the clients are at full speed
    busy = await probe_ingestion(settings, dsn, probes, 0.5)
    output, _ = await asyncio.get_running_loop().run_in_executor(None, client.communicate)
    results = json.loads(output)
    load_after = loadavg()
    server = await server_side(bases)

    table = Table(title=f"{args.clients} clients for {args.seconds:g} s, {args.api_replicas} API process(es), "
                        f"{args.rows:,} recommendations, "
                        f"load {load_before:.1f} -> {load_after:.1f}")
    for column in ("", "requests", "errors", "req/s", "p50", "p95", "p99", "max"):
        table.add_column(column, justify="right")
    worst = 0.0
    errors_total = 0
    for endpoint, result in results.items():
        latencies = result["latencies"]
        errors = sum(n for status, n in result["statuses"].items() if status != "200")
        errors_total += errors
        worst = max(worst, percentile(latencies, 0.99))
        table.add_row(endpoint, f"{len(latencies):,}", str(errors), f"{len(latencies) / args.seconds:.0f}",
                      *(f"{percentile(latencies, q) * 1000:.0f} ms" for q in (0.5, 0.95, 0.99)),
                      f"{max(latencies) * 1000:.0f} ms")
    console.print(table)
    console.print(f"statuses: { {k: v['statuses'] for k, v in results.items()} }")
    console.print("as the API processes measured them (their /metrics, every round so far): share of answers "
                  f"within 0.1 / 0.25 / 0.5 / 1 / 2.5 s: {server}")
    slow = sorted(t for result in results.values() for t in result["slow_at"])
    if slow:
        per_second = {second: sum(1 for t in slow if int(t) == second) for second in range(int(args.seconds) + 1)}
        console.print(f"answers slower than {P99_TARGET:g} s by second of the run they were asked in: "
                      f"{ {k: v for k, v in per_second.items() if v} }")
    console.print(f"ingestion delay idle: median {statistics.median(idle) * 1000:.0f} ms, "
                  f"max {max(idle) * 1000:.0f} ms; under load: median {statistics.median(busy) * 1000:.0f} ms, "
                  f"max {max(busy) * 1000:.0f} ms; ratio {statistics.median(busy) / statistics.median(idle):.2f}x")
    console.print(f"targets: no error ({'met' if errors_total == 0 else 'missed'}), p99 < 1 s "
                  f"({'met' if worst < P99_TARGET else 'missed'}: {worst * 1000:.0f} ms)")
    return worst


async def main(args) -> None:
    name = f"tl_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    dsn = f"{ADMIN_DSN.rsplit('/', 1)[0]}/{name}"
    broker = EmbeddedBroker("127.0.0.1", free_port()).start()
    processes: list[subprocess.Popen] = []
    logs = Path(os.environ.get("TMPDIR", "/tmp"))
    try:
        await migrate.upgrade_async(dsn)
        started = time.perf_counter()
        await load(dsn, args.rows)
        console.print(f"loaded {args.rows:,} recommendations in {time.perf_counter() - started:.1f}s")
        settings = Settings(environment="test", database_url=dsn, api_port=free_port(), api_host="127.0.0.1",
                            kafka_bootstrap=broker.bootstrap, reminders_enabled=False, fixed_now=NOW,
                            topic_prefix=f"a{uuid.uuid4().hex[:6]}.", var_dir=logs / f"{name}-var")
        await kafka.ensure_topics(settings)
        container = bootstrap(settings, clock=lambda: NOW)
        tokens = {"secretary": await users.add_user(container.uow, "sekda-15", Role.SECRETARY, region="15"),
                  "regency": await users.add_user(container.uow, "opd-1501", Role.AGENCY, agency_id="15.01")}
        await container.close()
        env = {k: v for k, v in os.environ.items() if not k.startswith("TINDAKLANJUT_")} | settings.to_env()
        processes.append(start_role("recommender,relay", env, logs / f"{name}-recommender.log"))
        bases = []
        for replica in range(args.api_replicas):     # each API replica its own process, port and pool
            port = settings.api_port if replica == 0 else free_port()
            processes.append(start_role("api", env | {"TINDAKLANJUT_API_PORT": str(port)},
                                        logs / f"{name}-api{replica}.log"))
            bases.append(f"http://127.0.0.1:{port}")
        console.print(f"recommender {processes[0].pid}, api {[p.pid for p in processes[1:]]}")
        for base in bases:
            await wait_ready(f"{base}/readyz")
        documents = make_documents((args.repeat + 1) * args.probes + 1, seed=int(time.time()))
        await probe_ingestion(settings, dsn, documents[:1], 0)          # the consumer has joined
        idle = await probe_ingestion(settings, dsn, documents[1:args.probes + 1], 0.5)

        worst_by_round = []
        for round_number in range(args.repeat):
            probes = documents[args.probes * (round_number + 1) + 1:args.probes * (round_number + 2) + 1]
            worst_by_round.append(await load_round(args, settings, dsn, bases, tokens, idle, probes))
        if args.repeat > 1:
            console.print(f"p99 per round: {', '.join(f'{w * 1000:.0f} ms' for w in worst_by_round)}; "
                          f"median {statistics.median(worst_by_round) * 1000:.0f} ms")
    finally:
        for process in processes:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
        broker.stop()
        admin = await asyncpg.connect(ADMIN_DSN)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--client-mode":
        bases, tokens, count, seconds = json.loads(sys.argv[2]), json.loads(sys.argv[3]), int(sys.argv[4]), \
            float(sys.argv[5])
        print(json.dumps(asyncio.run(clients(bases, tokens, count, seconds, int(sys.argv[6])))))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--probes", type=int, default=20, help="assessments published to time ingestion")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of load on the same stack")
    parser.add_argument("--api-replicas", type=int, default=1, help="API processes, clients spread over them")
    parser.add_argument("--items", type=int, default=20, help="overdue items per government (0: all)")
    asyncio.run(main(parser.parse_args()))
