"""Benchmark: GET /api/v1/overdue for one region with 1,000,000 recommendations
in PostgreSQL, against the raw SQL query that returns the same rows.

What it does: creates a fresh PostgreSQL database, migrates it, bulk-loads
agencies and units for 34 provinces and N recommendations (COPY), about a
third of them overdue, creates a secretary for one province, then times in
the same run:
- baseline: the raw SQL (the same filter, the same rows), fetched with asyncpg;
- measured: the HTTP request to a live API process (`tindaklanjut api`),
  response read and parsed.
It prints the medians and their ratio (target: within 2x) and drops the database.

Needs: PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth) and the
project installed (`make test` creates .venv).

Run: .venv/bin/python bench/overdue.py [--rows 1000000] [--repeat 7] [--region 15]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import asyncpg
import httpx
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tindaklanjut.adapters import migrate  # noqa: E402
from tindaklanjut.bootstrap import bootstrap  # noqa: E402
from tindaklanjut.config import Settings  # noqa: E402
from tindaklanjut.domain.lifecycle import Role  # noqa: E402
from tindaklanjut.service_layer import users  # noqa: E402

ADMIN_DSN = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
PROVINCES = ["11", "12", "13", "14", "15", "16", "17", "18", "19", "21", "31", "32", "33", "34", "35", "36", "51",
             "52", "53", "61", "62", "63", "64", "65", "71", "72", "73", "74", "75", "76", "81", "82", "91", "94"]
NOW = datetime(2025, 3, 1, 1, 0, tzinfo=timezone.utc)
console = Console()

RAW_SQL = """
SELECT r.id, r.title, r.indicator_code, r.priority, r.status, r.due_date, r.due_at, r.agency_id,
       a.name, a.region_code, r.unit_id, u.name, u.region_code
FROM recommendation r JOIN agency a ON a.id = r.agency_id JOIN unit u ON u.id = r.unit_id
WHERE r.status IN ('open', 'in_progress', 'changes_requested') AND r.due_at < $1
  AND (a.region_code = $2 OR a.region_code LIKE $3)
ORDER BY r.agency_id, r.unit_id, r.due_at
"""


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def start_api(dsn: str, port: int, ready_path: str) -> tuple[subprocess.Popen, str]:
    """A live `tindaklanjut api` process on this database and port, once `ready_path` answers 200."""
    env = {**os.environ, "TINDAKLANJUT_DATABASE_URL": dsn, "TINDAKLANJUT_API_PORT": str(port),
           "TINDAKLANJUT_KAFKA_BOOTSTRAP": "127.0.0.1:1", "TINDAKLANJUT_FIXED_NOW": NOW.isoformat()}
    api = subprocess.Popen([sys.executable, "-m", "tindaklanjut.cli", "api"], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    await wait_ready(f"{base}{ready_path}")
    return api, base


async def wait_ready(url: str, attempts: int = 300) -> None:
    """Until `url` answers 200 (at most `attempts` tries, 0.1 s apart)."""
    for _ in range(attempts):
        try:
            if httpx.get(url).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.1)


async def load(dsn: str, rows: int) -> None:
    """Agencies: each province plus 12 kab/kota; 7 units each; `rows` recommendations."""
    rng = random.Random(7)
    agencies, units = [], []
    for province in PROVINCES:
        codes = [province] + [f"{province}.{n:02d}" for n in range(1, 13)]
        for code in codes:
            agencies.append((code, f"Pemerintah {code}", "pemprov" if code == province else "pemkab", code))
            for k in range(7):
                units.append((f"{code}/unit{k}", f"Unit {k} {code}", code, code))
    statuses = ["open"] * 5 + ["in_progress"] * 2 + ["changes_requested", "submitted", "verified"]
    conn = await asyncpg.connect(dsn)
    try:
        await conn.copy_records_to_table("agency", records=agencies, columns=["id", "name", "kind", "region_code"])
        await conn.copy_records_to_table("unit", records=units, columns=["id", "name", "agency_id", "region_code"])
        columns = ["id", "assessment_id", "assessment_revision", "framework", "cycle", "unit_id", "agency_id",
                   "scope", "indicator_code", "title", "action", "priority", "due_date", "due_at", "status",
                   "rule_id", "issued_at", "updated_at", "catalogue_version", "template", "evidence", "had_action",
                   "extended"]
        chunk = 50_000
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("loading recommendations", total=rows)
            for start in range(0, rows, chunk):
                batch = []
                for i in range(start, min(rows, start + chunk)):
                    unit_id, _, agency_id, _ = units[rng.randrange(len(units))]
                    due = date(2025, 1, 2) + timedelta(days=rng.randrange(0, 150))
                    due_at = datetime(due.year, due.month, due.day, 16, 59, tzinfo=timezone.utc)
                    batch.append((str(uuid.UUID(int=i + 1)), f"A-{unit_id}", 1, "ombudsman-kepatuhan", "2024",
                                  unit_id, agency_id, "indicator", f"ind.{i % 20}",
                                  "Perbaiki pengelolaan pengaduan", "Tetapkan pengelola pengaduan.",
                                  rng.choice(["high", "medium", "low"]), due, due_at, rng.choice(statuses),
                                  "indicator.below_half", NOW, NOW, "2026.2", "sp.10", "SK pengelola", False, False))
                await conn.copy_records_to_table("recommendation", records=batch, columns=columns)
                progress.advance(task, len(batch))
        await conn.execute("VACUUM ANALYZE")    # as after any bulk load (autovacuum would, a little later)
    finally:
        await conn.close()


async def time_raw(dsn: str, region: str, repeat: int) -> tuple[list[float], int]:
    conn = await asyncpg.connect(dsn)
    try:
        timings, count = [], 0
        for _ in range(repeat):
            started = time.perf_counter()
            rows = await conn.fetch(RAW_SQL, NOW, region, region + ".%")
            timings.append(time.perf_counter() - started)
            count = len(rows)
        return timings, count
    finally:
        await conn.close()


def time_api(base: str, token: str, region: str, repeat: int) -> tuple[list[float], int]:
    timings, count = [], 0
    with httpx.Client(base_url=base, timeout=120) as client:
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.get("/api/v1/overdue", params={"region": region},
                                  headers={"Authorization": f"Bearer {token}"})
            groups = response.json()
            timings.append(time.perf_counter() - started)
            response.raise_for_status()
            count = sum(g["overdue"] for g in groups)
    return timings, count


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--region", default="15")
    args = parser.parse_args()

    name = f"tl_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    base_dsn = ADMIN_DSN.rsplit("/", 1)[0]
    dsn = f"{base_dsn}/{name}"
    api = None
    try:
        await migrate.upgrade_async(dsn)
        started = time.perf_counter()
        await load(dsn, args.rows)
        console.print(f"loaded {args.rows:,} recommendations in {time.perf_counter() - started:.1f}s")

        settings = Settings(environment="test", database_url=dsn, api_port=free_port(),
                            kafka_bootstrap="127.0.0.1:1")
        container = bootstrap(settings, clock=lambda: NOW)
        token = await users.add_user(container.uow, "sekda-bench", Role.SECRETARY, region=args.region)
        await container.close()
        api, base = await start_api(dsn, settings.api_port, "/openapi.json")

        time_api(base, token, args.region, 2)                    # warm-up, both sides
        await time_raw(dsn, args.region, 2)
        raw, raw_rows = await time_raw(dsn, args.region, args.repeat)
        measured, api_rows = time_api(base, token, args.region, args.repeat)
        if raw_rows != api_rows:
            raise SystemExit(f"row counts differ: raw {raw_rows}, API {api_rows}")
        raw_median, api_median = statistics.median(raw), statistics.median(measured)
        table = Table(title=f"GET /api/v1/overdue, region {args.region}, {args.rows:,} recommendations")
        for column in ("", "rows", "min", "median", "max"):
            table.add_column(column, justify="right")
        table.add_row("raw SQL (asyncpg)", f"{raw_rows:,}", f"{min(raw) * 1000:.1f} ms",
                      f"{raw_median * 1000:.1f} ms", f"{max(raw) * 1000:.1f} ms")
        table.add_row("HTTP API", f"{api_rows:,}", f"{min(measured) * 1000:.1f} ms", f"{api_median * 1000:.1f} ms",
                      f"{max(measured) * 1000:.1f} ms")
        console.print(table)
        ratio = api_median / raw_median
        bar = "#" * min(60, round(ratio * 10))
        console.print(f"ratio API / raw = [bold]{ratio:.2f}x[/bold] {bar}  (target: <= 2.00x)")
    finally:
        if api is not None:
            api.terminate()
            api.wait(10)
        admin = await asyncpg.connect(ADMIN_DSN)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
