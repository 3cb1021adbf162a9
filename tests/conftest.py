"""Shared fixtures: a real broker, databases on both backends, settings."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import uuid
from pathlib import Path

import asyncpg
import pytest

from tindaklanjut.adapters import migrate
from tindaklanjut.adapters.broker import EmbeddedBroker
from tindaklanjut.config import Settings

CONTRACT_DIR = Path(__file__).parent / "data" / "contract"
POSTGRES_ADMIN_DSN = os.environ.get("TINDAKLANJUT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def contract_examples() -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text("utf-8")) for p in sorted(CONTRACT_DIR.glob("*.json"))}


@pytest.fixture
def examples() -> dict[str, dict]:
    return contract_examples()


@pytest.fixture(scope="session")
def broker():
    with EmbeddedBroker("127.0.0.1", free_port()) as embedded:
        yield embedded


async def _create_pg_database() -> str:
    name = f"tl_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = POSTGRES_ADMIN_DSN.rsplit("/", 1)[0]
    return f"{base}/{name}"


async def _drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request, tmp_path):
    """A fresh, migrated database on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        await migrate.upgrade_async(url)
        yield url
        return
    url = await _create_pg_database()
    try:
        await migrate.upgrade_async(url)
        yield url
    finally:
        await _drop_pg_database(url)


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    """Settings for one test: its own database and its own topic prefix."""
    return Settings(environment="test", database_url=database_url, var_dir=tmp_path / "var",
                    topic_prefix=f"t{uuid.uuid4().hex[:8]}.", consumer_group=f"g{uuid.uuid4().hex[:8]}",
                    kafka_bootstrap="127.0.0.1:1", topic_partitions=2, api_port=free_port())


@pytest.fixture
def kafka_settings(settings, broker) -> Settings:
    return settings.model_copy(update={"kafka_bootstrap": broker.bootstrap})


async def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1):
    """Poll an async predicate until it returns a truthy value (no fixed sleeps)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await predicate()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value: {result!r})")
        await asyncio.sleep(interval)
