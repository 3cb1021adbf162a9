"""Engines and sessions from ordinary database URLs.

`sqlite:///var/x.db` and `postgresql://user@host/db` are accepted as they
are; the async driver (aiosqlite, asyncpg) is picked here.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg"}


def async_url(url: str) -> str:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in _ASYNC_DRIVERS:
        raise ValueError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")
    if "+" in parsed.drivername:
        return parsed.render_as_string(hide_password=False)
    return parsed.set(drivername=_ASYNC_DRIVERS[backend]).render_as_string(hide_password=False)


def create_engine(url: str, *, pool_size: int = 10, max_overflow: int = 10) -> AsyncEngine:
    aurl = make_url(async_url(url))
    if aurl.get_backend_name() == "sqlite":
        if aurl.database and aurl.database != ":memory:":
            Path(aurl.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(aurl, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(aurl, pool_size=pool_size, max_overflow=max_overflow, pool_pre_ping=True)


WAL_CHECKPOINT_PAGES = 20_000          # about 80 MB of 4 KiB pages (SQLite's default: 1,000)
WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024  # what a checkpointed log is cut back to on disk


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the CLI read while the worker writes; the busy timeout makes
    # concurrent writers wait instead of failing.
    # A checkpoint copies the log into the database and syncs both files. One ingest batch writes
    # about 5 MB (payloads, recommendations, outbox), so with SQLite's default of 1,000 pages every
    # batch paid for one; with 20,000 pages one in about sixteen does, and pages written again in
    # between (indexes, outbox rows marked as relayed) are copied once. On this project's test
    # machine, where a sync is cheap, the gain is within the noise (docs/benchmarks.md, series H).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
    cursor.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT_BYTES}")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class WriteTurn:
    """Writers of one process take turns on SQLite; on PostgreSQL this does nothing.

    SQLite has one writer at a time. A writer that finds the database locked waits in SQLite's busy
    handler, which sleeps 1, 2, 5, 10 ... up to 100 ms between looks, so it usually starts well
    after the lock came free. The worker's two busy writers, ingest and the outbox relay, met that
    on every batch: with the relay paused, ingest took 20-25 % less time (docs/benchmarks.md,
    series I). Here the next writer is woken as soon as the previous one is done, in the order they
    asked (asyncio's lock is fair). Other processes, and other writers of this one, still wait in
    the busy handler."""

    def __init__(self, *, exclusive: bool) -> None:
        self._lock = asyncio.Lock() if exclusive else None

    @classmethod
    def for_engine(cls, engine: AsyncEngine) -> "WriteTurn":
        return cls(exclusive=engine.dialect.name == "sqlite")

    @property
    def taken(self) -> bool:
        return self._lock is not None and self._lock.locked()

    async def __aenter__(self) -> None:
        if self._lock is not None:
            await self._lock.acquire()

    async def __aexit__(self, *exc_info) -> None:
        if self._lock is not None:
            self._lock.release()


NO_TURN = WriteTurn(exclusive=False)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
