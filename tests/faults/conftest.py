"""The fault suite: real processes, a real broker and PostgreSQL, and a fault injected while they
work (kill -9, a broker restart, the database gone, a mail server or webhook receiver down).
Each test records its exact counts, printed at the end of the run."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from tindaklanjut.adapters import migrate
from tindaklanjut.config import Settings

from tests.conftest import POSTGRES_ADMIN_DSN, free_port

COUNTS: list[tuple[str, dict]] = []


@pytest.fixture
def fault_counts(request):
    """Record what a fault test counted: `fault_counts(stored=3000, ...)`."""
    def record(**counts) -> None:
        COUNTS.append((request.node.name, counts))
    return record


def pytest_terminal_summary(terminalreporter):
    if COUNTS:
        terminalreporter.section("fault suite counts")
        for name, counts in COUNTS:
            terminalreporter.write_line(f"{name}: " + ", ".join(f"{k}={v}" for k, v in counts.items()))


@pytest.fixture
async def pg_role_database(tmp_path):
    """A migrated PostgreSQL database owned by its own login role (not a superuser), so that its
    connection limit can be set to 0 without touching the shared server. Yields (url, name)."""
    suffix = uuid.uuid4().hex[:10]
    role, name = f"tl_fault_{suffix}", f"tl_fault_{suffix}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        await admin.execute(f'CREATE ROLE "{role}" LOGIN')
        await admin.execute(f'CREATE DATABASE "{name}" OWNER "{role}"')
    finally:
        await admin.close()
    host = POSTGRES_ADMIN_DSN.split("@", 1)[1].rsplit("/", 1)[0]
    url = f"postgresql://{role}@{host}/{name}"
    try:
        await migrate.upgrade_async(url)
        yield url, name
    finally:
        admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.execute(f'DROP ROLE IF EXISTS "{role}"')
        finally:
            await admin.close()


@pytest.fixture
def fault_settings(pg_role_database, broker, tmp_path) -> Settings:
    url, _ = pg_role_database
    return Settings(environment="test", database_url=url, var_dir=tmp_path / "var",
                    topic_prefix=f"f{uuid.uuid4().hex[:8]}.", consumer_group=f"g{uuid.uuid4().hex[:8]}",
                    kafka_bootstrap=broker.bootstrap, topic_partitions=6, api_port=free_port())
