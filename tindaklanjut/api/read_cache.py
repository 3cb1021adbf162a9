"""Short-lived answers of the heavy oversight read models, shared by the requests that ask the same
thing at the same time.

A province's overdue view reads thousands of rows; two hundred secretaries and inspectors opening
it in the same minute would each read them again. An answer is kept per key (the actor's scope and
the request's parameters, so no one is served what another scope sees) while:

- the data version it was computed at is still current (the highest outbox row: every follow-up
  step, deadline change and issued recommendation writes one), and
- the domain clock has moved on less than `seconds` since (an item becomes overdue when the clock
  passes its deadline; a clock moved backwards is a miss).

Requests that miss together wait for one computation (single flight); a computation that fails is
forgotten, and its error reaches every request that waited for it. `seconds` 0 turns caching off.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, kw_only=True)
class _Entry:
    version: Hashable
    computed_at: datetime
    answer: asyncio.Future


class ReadCache:
    def __init__(self, seconds: float, max_entries: int = 500) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self.hits = self.misses = 0

    def _fresh(self, entry: _Entry | None, version: Hashable, now: datetime) -> bool:
        return (entry is not None and entry.version == version
                and 0 <= (now - entry.computed_at).total_seconds() < self.seconds)

    async def get(self, key: Hashable, *, version: Hashable, now: datetime,
                  compute: Callable[[], Awaitable[Any]]) -> Any:
        if self.seconds <= 0:
            return await compute()
        entry = self._entries.get(key)
        if self._fresh(entry, version, now):
            self.hits += 1
            self._entries.move_to_end(key)
            # Shielded: one waiter giving up (a client that left) does not cancel the others' answer.
            return await asyncio.shield(entry.answer)
        self.misses += 1
        answer = asyncio.ensure_future(compute())
        self._entries[key] = _Entry(version=version, computed_at=now, answer=answer)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        answer.add_done_callback(lambda done: self._forget_failed(key, done))
        return await asyncio.shield(answer)

    def _forget_failed(self, key: Hashable, done: asyncio.Future) -> None:
        if done.cancelled() or done.exception() is not None:
            entry = self._entries.get(key)
            if entry is not None and entry.answer is done:
                del self._entries[key]
