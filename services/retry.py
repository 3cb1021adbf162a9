"""Agents retry infrastructure errors (the database away) until their work is
committed, so faust never acknowledges a message whose effect was not stored."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog

log = structlog.get_logger(__name__)
T = TypeVar("T")


async def until_committed(work: Callable[[], Awaitable[T]], *, name: str, max_delay: float = 30.0) -> T:
    """Run `work()` until it succeeds, backing off exponentially between tries."""
    delay = 0.5
    while True:
        try:
            return await work()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.error(f"{name}.failed", error=repr(exc), retry_in=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)
