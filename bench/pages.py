#!/usr/bin/env python3
"""Benchmark: every page of the web workspace at 1,000,000 recommendations on
PostgreSQL, against the raw SQL that selects what the page shows.

What it does: creates a fresh PostgreSQL database, migrates it and bulk-loads
N recommendations over 442 governments (the loader of bench/overdue.py), adds
one user per role with a password, starts a live API process (`tindaklanjut
api`, which serves the pages) and logs in through `/masuk` like a browser.
Then, for each page, in the same run and alternating:
- baseline: the raw SQL statements that select what the page shows, run with
  asyncpg on one connection (rows fetched, nothing rendered);
- measured: the page over HTTP (session cookie, HTML rendered and read).
It prints the medians, the ratio page / raw (target: <= 2x), the bytes of
each page on the wire (target: < 150 KB on the first load) and the machine's load, then
drops the database.

Needs: PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth; override with
BENCH_POSTGRES) and the project installed (`make test` creates .venv).

Run: .venv/bin/python bench/pages.py [--rows 1000000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from overdue import ADMIN_DSN, NOW, free_port, load, start_api  # noqa: E402
from tindaklanjut.adapters import migrate  # noqa: E402
from tindaklanjut.bootstrap import bootstrap  # noqa: E402
from tindaklanjut.config import Settings  # noqa: E402
from tindaklanjut.domain.lifecycle import Role  # noqa: E402
from tindaklanjut.service_layer import users  # noqa: E402

console = Console()
PASSWORD = "bench-kata-sandi-1"
AGENCY = "15.01"      # a regency of Jambi in the loader of bench/overdue.py
OWED = "('open', 'in_progress', 'changes_requested')"
ITEM_COLUMNS = "r.*, u.region_code, u.name, a.name"

# What each page shows, as the SQL a hand-written report would run for it.
RAW = {
    "/rekomendasi (instansi)": [
        (f"SELECT {ITEM_COLUMNS} FROM recommendation r JOIN agency a ON a.id = r.agency_id "
         "JOIN unit u ON u.id = r.unit_id WHERE r.agency_id = $1 ORDER BY r.due_at, r.id LIMIT 50", (AGENCY,)),
        ("SELECT count(*) FROM recommendation r WHERE r.agency_id = $1", (AGENCY,)),
        ("SELECT DISTINCT u.id, u.name FROM unit u JOIN recommendation r ON r.unit_id = u.id "
         "WHERE r.agency_id = $1 ORDER BY u.name", (AGENCY,)),
    ],
    "/rekomendasi/{id} (instansi)": [
        (f"SELECT {ITEM_COLUMNS} FROM recommendation r JOIN agency a ON a.id = r.agency_id "
         "JOIN unit u ON u.id = r.unit_id WHERE r.id = $1 AND r.agency_id = $2", ("ITEM", AGENCY)),
        ("SELECT * FROM audit_entry WHERE recommendation_id = $1 ORDER BY id", ("ITEM",)),
        ("SELECT * FROM evidence WHERE recommendation_id = $1 ORDER BY version", ("ITEM",)),
        ("SELECT * FROM followup_request WHERE recommendation_id = $1 ORDER BY requested_at", ("ITEM",)),
    ],
    "/verifikasi (verifikator)": [
        (f"SELECT {ITEM_COLUMNS} FROM recommendation r JOIN agency a ON a.id = r.agency_id "
         "JOIN unit u ON u.id = r.unit_id WHERE r.status = 'submitted' ORDER BY r.due_at, r.id LIMIT 50", ()),
        ("SELECT count(*) FROM recommendation WHERE status = 'submitted'", ()),
        ("SELECT * FROM followup_request WHERE status = 'pending' ORDER BY requested_at", ()),
        ("SELECT e.* FROM evidence e WHERE e.recommendation_id IN (SELECT id FROM recommendation "
         "WHERE status = 'submitted' ORDER BY due_at, id LIMIT 50)", ()),
    ],
    "/ringkasan (sekda)": [
        (f"SELECT count(*), sum(CASE WHEN status IN {OWED} THEN 1 ELSE 0 END), "
         f"sum(CASE WHEN status IN {OWED} AND due_at >= $2 AND due_at < $2::timestamptz + interval '14 days' THEN 1 ELSE 0 END), "
         f"sum(CASE WHEN status IN {OWED} AND due_at < $2 THEN 1 ELSE 0 END) FROM recommendation "
         "WHERE agency_id = $1", (AGENCY, NOW)),
        ("SELECT status, count(*) FROM recommendation WHERE agency_id = $1 GROUP BY status", (AGENCY,)),
        (f"SELECT a.name, count(*) FROM recommendation r JOIN agency a ON a.id = r.agency_id WHERE r.agency_id = $1 "
         f"AND r.status IN {OWED} AND r.due_at < $2 GROUP BY a.name", (AGENCY, NOW)),
        (f"SELECT sum(CASE WHEN due_at >= $2::timestamptz - interval '7 days' THEN 1 ELSE 0 END), "
         f"sum(CASE WHEN due_at < $2::timestamptz - interval '7 days' AND due_at >= $2::timestamptz - interval '30 days' THEN 1 ELSE 0 END), "
         f"sum(CASE WHEN due_at < $2::timestamptz - interval '30 days' AND due_at >= $2::timestamptz - interval '90 days' THEN 1 ELSE 0 END), "
         f"sum(CASE WHEN due_at < $2::timestamptz - interval '90 days' THEN 1 ELSE 0 END) FROM recommendation "
         f"WHERE agency_id = $1 AND status IN {OWED} AND due_at < $2", (AGENCY, NOW)),
        ("SELECT verified_at FROM recommendation WHERE agency_id = $1 AND verified_at >= $2::timestamptz - interval '366 days'",
         (AGENCY, NOW)),
        ("SELECT status, avg(score_change), count(*) FROM recommendation WHERE agency_id = $1 "
         "AND status IN ('verified', 'lapsed') AND score_change IS NOT NULL GROUP BY status", (AGENCY,)),
    ],
    "/terlambat (sekda)": [
        ("SELECT r.id, r.title, r.indicator_code, r.priority, r.status, r.due_date, r.agency_id, a.name, "
         "a.region_code, r.unit_id, u.name, u.region_code, r.framework, r.cycle FROM recommendation r "
         f"JOIN agency a ON a.id = r.agency_id JOIN unit u ON u.id = r.unit_id WHERE r.agency_id = $1 "
         f"AND r.status IN {OWED} AND r.due_at < $2 ORDER BY r.agency_id, r.unit_id, r.due_at", (AGENCY, NOW)),
        ("SELECT DISTINCT r.framework, r.cycle, r.agency_id, a.name FROM recommendation r "
         "JOIN agency a ON a.id = r.agency_id WHERE r.agency_id = $1", (AGENCY,)),
    ],
}
PAGES = {"/rekomendasi (instansi)": ("opd", "/rekomendasi"), "/rekomendasi/{id} (instansi)": ("opd", "ITEM"),
         "/verifikasi (verifikator)": ("verifikator", "/verifikasi"), "/ringkasan (sekda)": ("sekda", "/ringkasan"),
         "/terlambat (sekda)": ("sekda", "/terlambat")}
ACCOUNTS = {"opd": (Role.AGENCY, AGENCY), "verifikator": (Role.EVALUATOR, None), "sekda": (Role.SECRETARY, AGENCY)}


async def time_raw(conn, statements, item: str) -> float:
    started = time.perf_counter()
    for sql, params in statements:
        await conn.fetch(sql, *[item if p == "ITEM" else p for p in params])
    return time.perf_counter() - started


def logged_in(base: str, name: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=120)
    form = client.get("/masuk")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    answer = client.post("/masuk", data={"nama": name, "sandi": PASSWORD, "csrf_token": token, "lanjut": "/"})
    if answer.status_code != 303:
        raise SystemExit(f"login of {name} failed: {answer.status_code}")
    return client


def time_page(client: httpx.Client, path: str) -> tuple[float, int]:
    started = time.perf_counter()
    response = client.get(path)
    response.read()
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"{path}: HTTP {response.status_code}")
    return elapsed, response.num_bytes_downloaded       # on the wire (compressed)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    name = f"tl_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    dsn = f"{ADMIN_DSN.rsplit('/', 1)[0]}/{name}"
    api = None
    try:
        await migrate.upgrade_async(dsn)
        started = time.perf_counter()
        await load(dsn, args.rows)
        console.print(f"loaded {args.rows:,} recommendations in {time.perf_counter() - started:.1f}s")
        settings = Settings(environment="test", database_url=dsn, api_port=free_port(), kafka_bootstrap="127.0.0.1:1")
        container = bootstrap(settings, clock=lambda: NOW)
        for user, (role, agency) in ACCOUNTS.items():
            await users.add_user(container.uow, user, role, agency_id=agency, password=PASSWORD)
        await container.close()
        api, base = await start_api(dsn, settings.api_port, "/masuk")
        clients = {user: logged_in(base, user) for user in ACCOUNTS}
        conn = await asyncpg.connect(dsn)
        item = await conn.fetchval("SELECT id FROM recommendation WHERE agency_id = $1 ORDER BY due_at LIMIT 1",
                                   AGENCY)
        load_before = os.getloadavg()
        table = Table(title=f"Workspace pages at {args.rows:,} recommendations (PostgreSQL), medians of "
                            f"{args.repeat}")
        for column in ("page", "raw SQL", "page (HTTP)", "ratio", "transferred"):
            table.add_column(column, justify="right")
        worst = 0.0
        for label, (user, path) in PAGES.items():
            path = f"/rekomendasi/{item}" if path == "ITEM" else path
            time_page(clients[user], path)                      # warm-up, both sides
            await time_raw(conn, RAW[label], item)
            raw, page, size = [], [], 0
            for _ in range(args.repeat):
                raw.append(await time_raw(conn, RAW[label], item))
                elapsed, size = time_page(clients[user], path)
                page.append(elapsed)
            ratio = statistics.median(page) / statistics.median(raw)
            worst = max(worst, ratio)
            table.add_row(label, f"{statistics.median(raw) * 1000:.1f} ms", f"{statistics.median(page) * 1000:.1f} ms",
                          f"{ratio:.2f}x", f"{size / 1024:.0f} KB")
        await conn.close()
        console.print(table)
        console.print(f"worst ratio {worst:.2f}x (target <= 2.00x); load average before {load_before[0]:.2f}, "
                      f"after {os.getloadavg()[0]:.2f}")
    finally:
        if api is not None:
            api.terminate()
            api.wait(10)
        admin = await asyncpg.connect(ADMIN_DSN)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
