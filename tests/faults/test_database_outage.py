"""The database unreachable for 30 s while a worker consumes and relays: its role's connection
limit set to 0 and its sessions terminated (the shared server keeps running). Nothing is lost,
nothing is dead-lettered (an outage is not the message's fault), the worker recovers by itself."""

from __future__ import annotations

import asyncio

import asyncpg

from tests.conftest import POSTGRES_ADMIN_DSN, wait_for
from tests.faults.helpers import database_counts, distinct_assessments, issued_on_topic, publish
from tests.kafka_helpers import settings_env, start, stop
from tindaklanjut.adapters import kafka

BEFORE, DURING = 300, 300
OUTAGE_SECONDS = 30


async def _cut(database: str) -> int:
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        await admin.execute(f'ALTER DATABASE "{database}" CONNECTION LIMIT 0')
        return len(await admin.fetch("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                                     database))
    finally:
        await admin.close()


async def _restore(database: str) -> None:
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        await admin.execute(f'ALTER DATABASE "{database}" CONNECTION LIMIT -1')
    finally:
        await admin.close()


async def test_thirty_seconds_without_the_database_lose_nothing(fault_settings, pg_role_database, examples,
                                                                  tmp_path, fault_counts):
    settings = fault_settings
    url, database = pg_role_database
    await kafka.ensure_topics(settings)
    log = tmp_path / "worker.log"
    worker = start("worker", "--roles", "recommender,relay", env=settings_env(settings), log=log)
    documents = distinct_assessments(examples, BEFORE + DURING)
    try:
        async def started():
            return "worker.started" in log.read_text()
        await wait_for(started, timeout=60)
        await publish(settings, documents[:BEFORE])

        async def some_stored():
            return (await database_counts(url))["assessments"] >= BEFORE // 3
        await wait_for(some_stored, timeout=60, interval=0.05)
        terminated = await _cut(database)
        try:
            await publish(settings, documents[BEFORE:])          # arrives while the database is gone
            await asyncio.sleep(OUTAGE_SECONDS)
            assert worker.poll() is None, log.read_text()[-3000:]
        finally:
            await _restore(database)

        async def all_stored_and_relayed():
            counts = await database_counts(url)
            return counts["assessments"] == BEFORE + DURING and counts["unpublished"] == 0 and counts
        counts = await wait_for(all_stored_and_relayed, timeout=120, interval=0.5)
        assert worker.poll() is None
    finally:
        code = stop(worker)
    assert code == 0, log.read_text()[-3000:]
    total = BEFORE + DURING
    assert counts == {"assessments": total, "recommendations": total, "processed": total, "issued_outbox": total,
                      "unpublished": 0, "dead_letters": 0}
    topic = await issued_on_topic(settings, total)
    assert topic["ce_ids"] == topic["recommendations"] == total and topic["repeats_differ"] == 0
    retried = log.read_text().count("transient_failure")
    assert retried > 0, "the outage should have been noticed and retried"
    fault_counts(published=total, sessions_terminated=terminated, outage_seconds=OUTAGE_SECONDS,
                 retries_logged=retried, assessments=counts["assessments"], dead_letters=counts["dead_letters"],
                 topic_messages=topic["messages"], distinct_ce_ids=topic["ce_ids"])
