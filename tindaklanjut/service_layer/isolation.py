"""Poison isolation: a batch that fails for a reason other than an outage is
narrowed to the message that causes it; that message is dead-lettered after a
bounded number of tries and the rest flow on."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import structlog

from tindaklanjut.ports.retrying import describe, retry_transient

log = structlog.get_logger(__name__)
ItemT = TypeVar("ItemT")
ResultT = TypeVar("ResultT")


async def handle_isolating(items: Sequence[ItemT], *, handle: Callable[[Sequence[ItemT]], Awaitable[ResultT]],
                           dead_letter: Callable[[ItemT, BaseException], Awaitable[ResultT]],
                           max_tries: int, name: str) -> list[ResultT]:
    """Handle `items` as one batch; when that fails (not an outage), handle
    them one by one, and dead-letter each one that fails `max_tries` times on
    its own. Returns the results of the handled parts and of the dead
    letters. Outages are retried by `retry_transient` until they end."""
    try:
        return [await retry_transient(lambda: handle(items), name=name)]
    except asyncio.CancelledError:
        raise
    except Exception as error:
        log.warning(f"{name}.batch_failed", size=len(items), error=describe(error))
        first_error: BaseException | None = error if len(items) == 1 else None
    results: list[ResultT] = []
    for item in items:
        tries, last = (1, first_error) if first_error is not None else (0, None)
        while tries < max_tries:
            try:
                results.append(await retry_transient(lambda: handle([item]), name=name))
                break
            except asyncio.CancelledError:
                raise
            except Exception as error:
                tries, last = tries + 1, error
                log.warning(f"{name}.message_failed", tries=tries, error=describe(error))
        else:
            try:
                results.append(await retry_transient(lambda: dead_letter(item, last), name=f"{name}.dead_letter"))
            except asyncio.CancelledError:
                raise
            except Exception as error:   # nothing may halt the partition; the log keeps the trace
                log.critical(f"{name}.dead_letter_failed", error=describe(error), cause=describe(last))
    return results
