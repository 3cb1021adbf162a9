#!/usr/bin/env python3
"""Reminder sweep benchmark: the sweep's work selection against the raw indexed query.

What it does
------------
Creates a fresh PostgreSQL database, migrates it and bulk-loads (COPY) a
steady state: 5,000 units in 50 agencies over the three time zones (WIB, WITA,
WIT), one assessment per unit, a unit head per unit in the contact directory,
and `--small` (default 200,000) open recommendations, each with its reminder
schedule row. 10,000 of them (2 per unit) are due on 11 February 2025, so
their T-7 reminder is due at the benchmark instant, 4 February 2025 08:00 WIB;
their T-14 reminder was already sent a week earlier (5,000 sent digests,
10,000 delivery rows). The others are due on 30 June 2025 and have nothing to
do until mid-June.

At each size (`--small`, then `--large`, default 1,000,000, by loading the
difference) and for `--repeat` rounds (default 5, medians reported; the
planned rows are deleted again between rounds):

* raw: the indexed SQL that selects the rows a sweep must look at
  (`reminder_schedule.next_at <= now` joined with recommendation, unit and
  assessment), run with asyncpg and fetched completely;
* sweep: the planning phase of `tindaklanjut sweep` (in-process, delivery
  excluded: nothing is sent), split into `claim` (the same query streamed
  through one cursor in batches of 1,000, under the planner lock),
  `lookup` (their existing deliveries, escalations, contacts) and the whole
  planning transaction (computing the ladders and writing 10,000 deliveries,
  5,000 digests and the schedule updates);
* reconcile: the full-table check for new recommendations and changed
  deadlines that every CLI sweep (and the scheduler every sweep) runs;
* memory: a child process runs one complete sweep (reconcile, planning, and
  sending over a null channel that accepts everything) and reports its RSS
  before the sweep and its peak RSS (VmHWM) after it.

It prints a table with the ratios sweep/raw (target: claim within 2x of raw)
and the peak RSS at both sizes (target: no growth with the number of open
recommendations). `--json FILE` also writes the numbers.

What it needs
-------------
PostgreSQL reachable with CREATE DATABASE rights (default
postgresql://postgres@127.0.0.1:5432/postgres, trust auth; override with
TINDAKLANJUT_TEST_POSTGRES), the project installed (`make test` creates
.venv). About 2 GB of disk at 1,000,000 rows; a few minutes on 2 cores.

How to run
----------
    .venv/bin/python bench/reminders_sweep.py                    # 200k and 1M
    .venv/bin/python bench/reminders_sweep.py --small 20000 --large 100000 --repeat 1   # quick look
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import asyncpg
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tindaklanjut.adapters import migrate  # noqa: E402
from tindaklanjut.domain.calendar import deadline_on  # noqa: E402

ADMIN_DSN = os.environ.get("TINDAKLANJUT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
NOW = datetime.fromisoformat("2025-02-04T08:00+07:00")
UNITS, AGENCIES, DUE_PER_UNIT = 5000, 50, 2
DUE_SOON, DUE_LATER = date(2025, 2, 11), date(2025, 6, 30)
PROVINCES = ["15", "73", "94"]     # Jambi (WIB), Sulawesi Selatan (WITA), Papua (WIT)
console = Console()

RAW_SQL = """
SELECT s.recommendation_id, s.next_at, r.unit_id, r.agency_id, r.status, r.due_at, u.region_code,
       a.follow_up_until
FROM reminder_schedule s
JOIN recommendation r ON r.id = s.recommendation_id
JOIN unit u ON u.id = r.unit_id
LEFT JOIN assessment a ON a.assessment_id = r.assessment_id AND a.revision = r.assessment_revision
WHERE s.next_at <= $1
"""


def unit_of(n: int) -> tuple[str, str, str]:
    agency = n % AGENCIES
    region = f"{PROVINCES[agency % 3]}.{agency:02d}"
    return f"{region}/dinas{n:04d}", f"ag{agency:02d}", region


async def load_base(dsn: str) -> None:
    """Agencies, units, assessments, contacts, and the 10,000 due recommendations."""
    conn = await asyncpg.connect(dsn)
    published = datetime(2024, 12, 3, 3, tzinfo=timezone.utc)
    try:
        await conn.copy_records_to_table("agency", columns=["id", "name", "kind", "region_code"], records=[
            (f"ag{a:02d}", f"Pemerintah Daerah {a:02d}", "pemkot", f"{PROVINCES[a % 3]}.{a:02d}")
            for a in range(AGENCIES)])
        units = [unit_of(n) for n in range(UNITS)]
        await conn.copy_records_to_table("unit", columns=["id", "name", "agency_id", "region_code"], records=[
            (u, f"Dinas {i:04d}", a, r) for i, (u, a, r) in enumerate(units)])
        await conn.copy_records_to_table("assessment", columns=[
            "assessment_id", "revision", "framework", "cycle", "unit_id", "agency_id", "score", "computed_grade",
            "grade_mismatch", "published_at", "follow_up_until", "source", "event_id", "payload", "received_at"],
            records=[(f"a-{u}", 1, "ombudsman-kepatuhan", "2024", u, a, 60.0, "C", False, published,
                      DUE_LATER, "bench", f"e-{u}", "{}", published) for u, a, _ in units])
        await conn.copy_records_to_table("reminder_contact", columns=[
            "agency_id", "unit_id", "role", "name", "email", "updated_at"], records=[
            (a, u, "unit_head", f"Kepala {i:04d}", f"kepala{i:04d}@bench.test", published)
            for i, (u, a, _) in enumerate(units)])
        # A week ago every unit head got the T-14 digest for the two items due on 11 February.
        digests = await conn.fetch(
            "INSERT INTO reminder_digest (uid, recipient, channel, address, name, digest_date, zone, status, claims,"
            " created_at, sent_at) SELECT gen_random_uuid()::text, 'email:kepala' || lpad(n::text, 4, '0') ||"
            " '@bench.test', 'email', 'kepala' || lpad(n::text, 4, '0') || '@bench.test', 'Kepala', $1::date,"
            " 'Asia/Jakarta', 'sent', 1, $2, $2 FROM generate_series(0, $3 - 1) n RETURNING id, recipient",
            date(2025, 1, 28), published, UNITS)
        digest_of = {r["recipient"]: r["id"] for r in digests}
        await load_recommendations(conn, 0, UNITS * DUE_PER_UNIT, due=True)
        await conn.copy_records_to_table("reminder_delivery", columns=[
            "recommendation_id", "step_key", "step", "offset_days", "recipient", "roles", "digest_id", "status",
            "planned_at", "sent_at"], records=[
            (f"d{n:07d}", f"T-14@{DUE_SOON}", "T-14", -14, f"email:kepala{n % UNITS:04d}@bench.test", "unit_head",
             digest_of[f"email:kepala{n % UNITS:04d}@bench.test"], "sent", published, published)
            for n in range(UNITS * DUE_PER_UNIT)])
    finally:
        await conn.close()


async def load_recommendations(conn, start: int, stop: int, *, due: bool) -> None:
    """COPY recommendations and their schedule rows in chunks (bounded memory)."""
    issued = datetime(2024, 12, 3, 3, tzinfo=timezone.utc)
    prefix, day = ("d", DUE_SOON) if due else ("r", DUE_LATER)
    deadlines = {p: deadline_on(day, region_code=p)[1] for p in PROVINCES}
    wake = {p: (NOW if due else datetime.combine(day - timedelta(days=14), datetime.min.time().replace(hour=8),
                                                 tzinfo=deadlines[p].tzinfo)) for p in PROVINCES}
    for chunk in range(start, stop, 100_000):
        rows, schedule = [], []
        for n in range(chunk, min(chunk + 100_000, stop)):
            unit, agency, region = unit_of(n % UNITS)
            province = region[:2]
            rec_id = f"{prefix}{n:07d}"
            rows.append((rec_id, f"a-{unit}", 1, "ombudsman-kepatuhan", "2024", unit, agency, "indicator",
                         f"ind.{n % 20}", f"Rekomendasi {n}", "Lakukan perbaikan.", "high", day, deadlines[province],
                         "open", "indicator.below_half", "bench", "sp.1", "Bukti", issued, issued))
            schedule.append((rec_id, deadlines[province], wake[province]))
        await conn.copy_records_to_table("recommendation", columns=[
            "id", "assessment_id", "assessment_revision", "framework", "cycle", "unit_id", "agency_id", "scope",
            "indicator_code", "title", "action", "priority", "due_date", "due_at", "status", "rule_id",
            "catalogue_version", "template", "evidence", "issued_at", "updated_at"], records=rows)
        await conn.copy_records_to_table("reminder_schedule", columns=["recommendation_id", "basis_due_at", "next_at"],
                                         records=schedule)


async def reset(dsn: str) -> None:
    """Undo what a sweep planned and sent at NOW."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("DELETE FROM reminder_attempt")
        await conn.execute("DELETE FROM reminder_delivery WHERE planned_at = $1", NOW)
        await conn.execute("DELETE FROM reminder_digest WHERE digest_date = $1", NOW.date())
        await conn.execute("DELETE FROM outbox")
        await conn.execute("UPDATE reminder_schedule SET next_at = $1 WHERE recommendation_id LIKE 'd%'", NOW)
        await conn.execute("VACUUM ANALYZE reminder_schedule, reminder_delivery, reminder_digest")
    finally:
        await conn.close()


async def time_raw(dsn: str) -> tuple[float, int, str]:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.fetch(RAW_SQL, NOW)   # warm
        started = time.perf_counter()
        rows = await conn.fetch(RAW_SQL, NOW)
        elapsed = time.perf_counter() - started
        plan = "\n".join(r[0] for r in await conn.fetch("EXPLAIN " + RAW_SQL, NOW))
    finally:
        await conn.close()
    return elapsed, len(rows), plan


def _container(dsn: str, channels: bool = False):
    from tindaklanjut.adapters.notifications import NullChannel
    from tindaklanjut.bootstrap import bootstrap
    from tindaklanjut.bootstrap_reminders import reminders
    from tindaklanjut.config import Settings

    container = bootstrap(Settings(environment="test", database_url=dsn, reminder_batch_size=1000))
    return container, reminders(container, channels={"email": NullChannel("email"),
                                                     "webhook": NullChannel("webhook")})


async def time_sweep(dsn: str) -> dict:
    container, service = _container(dsn)
    try:
        report = await service.sweep(NOW, reconcile=False, send=False)
        async with service.uow() as work:
            started = time.perf_counter()
            changed = await work.reminders.reconcile()
            reconcile = time.perf_counter() - started
            await work.session.rollback()
    finally:
        await container.close()
    assert report.examined == UNITS * DUE_PER_UNIT and report.deliveries == UNITS * DUE_PER_UNIT, report
    return {**report.timings, "reconcile": reconcile, "reconcile_changed": changed, "examined": report.examined,
            "deliveries": report.deliveries, "digests": report.digests_created}


def _status(field: str) -> int:
    """A memory figure of this process from /proc (kB): VmRSS now, VmHWM the peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child_sweep(dsn: str) -> None:
    """Run in a subprocess: one full sweep (plan + null send); report peak RSS."""
    async def main():
        container, service = _container(dsn)
        try:
            async with container.sessions() as session:   # connect before measuring the baseline
                await session.connection()
            before = _status("VmRSS")
            report = await service.sweep(NOW, reconcile=True, send=True)
            after = _status("VmHWM")
        finally:
            await container.close()
        print(json.dumps({"before_kb": before, "peak_kb": after, "sent": report.sent,
                          "deliveries": report.deliveries, "send_s": report.timings["send"],
                          "plan_s": report.timings["plan"], "reconcile_s": report.timings["reconcile"]}))
    import logging
    import structlog
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    asyncio.run(main())


def memory(dsn: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", dsn], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


async def count_open(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval("SELECT count(*) FROM recommendation WHERE status = 'open'")
    finally:
        await conn.close()


async def measure(dsn: str, repeat: int) -> dict:
    raws, sweeps = [], []
    plan = ""
    for _ in range(repeat):
        await reset(dsn)
        raw, rows, plan = await time_raw(dsn)
        assert rows == UNITS * DUE_PER_UNIT, rows
        raws.append(raw)
        sweeps.append(await time_sweep(dsn))
    await reset(dsn)
    mem = memory(dsn)
    await reset(dsn)
    med = {k: statistics.median(s[k] for s in sweeps) for k in ("claim", "lookup", "plan", "reconcile")}
    return {"open": await count_open(dsn), "raw_s": statistics.median(raws), **{f"{k}_s": v for k, v in med.items()},
            "deliveries": sweeps[-1]["deliveries"], "digests": sweeps[-1]["digests"], "memory": mem,
            "raw_plan": plan, "runs": {"raw": raws, "sweeps": sweeps}}


async def run(small: int, large: int, repeat: int) -> list[dict]:
    name = f"tl_bench_reminders_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    dsn = f"{ADMIN_DSN.rsplit('/', 1)[0]}/{name}"
    results = []
    try:
        await migrate.upgrade_async(dsn)
        started = time.perf_counter()
        await load_base(dsn)
        loaded = UNITS * DUE_PER_UNIT
        for size in (small, large):
            conn = await asyncpg.connect(dsn)
            try:
                await load_recommendations(conn, loaded, size, due=False)
                await conn.execute("VACUUM ANALYZE")
            finally:
                await conn.close()
            loaded = size
            console.print(f"loaded {size:,} open recommendations ({time.perf_counter() - started:.0f} s)")
            results.append(await measure(dsn, repeat))
    finally:
        admin = await asyncpg.connect(ADMIN_DSN)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    return results


def show(results: list[dict]) -> None:
    table = Table(title=f"Reminder sweep, {UNITS * DUE_PER_UNIT:,} due now (PostgreSQL, medians)")
    for column in ("open recs", "raw query", "sweep claim", "claim/raw", "claim+lookup/raw", "whole plan",
                   "plan/raw", "reconcile", "peak RSS"):
        table.add_column(column, justify="right")
    for r in results:
        table.add_row(f"{r['open']:,}", f"{r['raw_s'] * 1000:.0f} ms", f"{r['claim_s'] * 1000:.0f} ms",
                      f"{r['claim_s'] / r['raw_s']:.2f}x", f"{(r['claim_s'] + r['lookup_s']) / r['raw_s']:.2f}x",
                      f"{r['plan_s'] * 1000:.0f} ms", f"{r['plan_s'] / r['raw_s']:.1f}x",
                      f"{r['reconcile_s'] * 1000:.0f} ms",
                      f"{r['memory']['peak_kb'] / 1024:.0f} MB (+{(r['memory']['peak_kb'] - r['memory']['before_kb']) / 1024:.0f})")
    console.print(table)
    if len(results) == 2:
        growth = results[1]["memory"]["peak_kb"] / results[0]["memory"]["peak_kb"]
        console.print(f"peak RSS {results[1]['open']:,} vs {results[0]['open']:,} open: {growth:.2f}x; "
                      f"full sweep with null channel sent {results[1]['memory']['sent']:,} digests "
                      f"({results[1]['memory']['deliveries']:,} deliveries) in "
                      f"{results[1]['memory']['plan_s'] + results[1]['memory']['send_s']:.1f} s")
    console.print("raw query plan:\n" + results[-1]["raw_plan"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", type=int, default=200_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_sweep(args.child)
        return
    results = asyncio.run(run(args.small, args.large, args.repeat))
    show(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
