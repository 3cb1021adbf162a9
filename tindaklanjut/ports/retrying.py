"""One retry policy: outages are retried with back-off, everything else is
the caller's to handle (a poison message is isolated, not retried forever).

Transient means the message is not at fault: the database or the broker is
unreachable, a connection dropped, a serialisation failure or deadlock that
the same work will not meet again.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, NodeNotReadyError, RequestTimedOutError
from sqlalchemy import exc as sa_exc
from tenacity import AsyncRetrying, retry_if_exception, wait_exponential

log = structlog.get_logger(__name__)
T = TypeVar("T")

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError, TimeoutError, asyncio.TimeoutError, OSError,
    sa_exc.DisconnectionError, sa_exc.TimeoutError, sa_exc.InterfaceError,
    KafkaConnectionError, KafkaTimeoutError, NodeNotReadyError, RequestTimedOutError,
)
# PostgreSQL SQLSTATEs that say "try again": connection (08), serialisation
# failure, deadlock, insufficient resources (53), operator intervention (57P),
# lock not available.
TRANSIENT_SQLSTATE_PREFIXES = ("08", "40001", "40P01", "53", "57P", "55P03")


def describe(error: BaseException, limit: int = 500) -> str:
    """An error as a short, storable reason (no NUL, bounded length)."""
    text = f"{type(error).__name__}: {error}".replace("\x00", "\\0")
    return text if len(text) <= limit else text[:limit] + "…"


def is_transient(error: BaseException) -> bool:
    if isinstance(error, TRANSIENT_ERRORS):
        return True
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        original = error.orig
        if isinstance(original, sqlite3.OperationalError):
            return True     # database locked, disk I/O, file unavailable
        state = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None) or ""
        if str(state).startswith(TRANSIENT_SQLSTATE_PREFIXES):
            return True
        cause = getattr(original, "__cause__", None)
        return cause is not None and is_transient(cause)
    return False


async def retry_transient(work: Callable[[], Awaitable[T]], *, name: str, max_delay: float = 30.0,
                          attempts: int | None = None) -> T:
    """Run `work()`; retry while it fails with a transient error (forever by
    default: an outage ends), raise any other error at once."""
    def log_retry(state) -> None:
        log.error(f"{name}.transient_failure", error=repr(state.outcome.exception()),
                  attempt=state.attempt_number)

    stop = (lambda state: state.attempt_number >= attempts) if attempts else (lambda state: False)
    async for attempt in AsyncRetrying(retry=retry_if_exception(is_transient),
                                       wait=wait_exponential(multiplier=0.5, max=max_delay),
                                       stop=stop, before_sleep=log_retry, reraise=True):
        with attempt:
            return await work()
    raise AssertionError("unreachable")
