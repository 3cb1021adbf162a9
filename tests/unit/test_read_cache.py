"""The overdue view's short-lived shared answers: reused only for the same key, at the same data
version, within the time allowed; computed once for requests that miss together."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from tindaklanjut.api.read_cache import ReadCache

T0 = datetime(2025, 3, 1, 2, 0, tzinfo=timezone.utc)


class Computation:
    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self) -> int:
        self.calls += 1
        await asyncio.sleep(0.01)
        return self.calls


async def test_the_same_key_and_version_within_the_time_allowed_is_computed_once():
    cache, compute = ReadCache(5), Computation()
    first = await cache.get("sekda-15", version=7, now=T0, compute=compute)
    again = await cache.get("sekda-15", version=7, now=T0 + timedelta(seconds=4.9), compute=compute)
    assert (first, again, compute.calls, cache.hits, cache.misses) == (1, 1, 1, 1, 1)


@pytest.mark.parametrize("key, version, later", [
    ("sekda-16", 7, timedelta(seconds=1)),      # another scope never sees this one's answer
    ("sekda-15", 8, timedelta(seconds=1)),      # a new event was written
    ("sekda-15", 7, timedelta(seconds=5)),      # the time allowed is over
    ("sekda-15", 7, timedelta(days=-60)),       # the clock was moved back
])
async def test_another_scope_a_new_version_or_another_time_computes_again(key, version, later):
    cache, compute = ReadCache(5), Computation()
    await cache.get("sekda-15", version=7, now=T0, compute=compute)
    assert await cache.get(key, version=version, now=T0 + later, compute=compute) == 2


async def test_requests_that_miss_together_wait_for_one_computation():
    cache, compute = ReadCache(5), Computation()
    answers = await asyncio.gather(*(cache.get("k", version=1, now=T0, compute=compute) for _ in range(50)))
    assert answers == [1] * 50 and compute.calls == 1


async def test_a_failed_computation_reaches_every_waiter_and_is_not_kept():
    cache, calls = ReadCache(5), []

    async def failing() -> int:
        calls.append(1)
        await asyncio.sleep(0.01)
        raise ConnectionError("database away")

    results = await asyncio.gather(*(cache.get("k", version=1, now=T0, compute=failing) for _ in range(3)),
                                   return_exceptions=True)
    assert [type(r) for r in results] == [ConnectionError] * 3 and len(calls) == 1
    assert await cache.get("k", version=1, now=T0, compute=Computation()) == 1


async def test_a_waiter_that_gives_up_does_not_cancel_the_others():
    cache, compute = ReadCache(5), Computation()
    leaving = asyncio.ensure_future(cache.get("k", version=1, now=T0, compute=compute))
    staying = asyncio.ensure_future(cache.get("k", version=1, now=T0, compute=compute))
    await asyncio.sleep(0)
    leaving.cancel()
    assert await staying == 1 and compute.calls == 1


async def test_zero_seconds_never_reuses_and_the_oldest_keys_make_room():
    off, compute = ReadCache(0), Computation()
    assert [await off.get("k", version=1, now=T0, compute=compute) for _ in range(3)] == [1, 2, 3]
    small, compute = ReadCache(5, max_entries=2), Computation()
    for key in ("a", "b", "c"):
        await small.get(key, version=1, now=T0, compute=compute)
    assert await small.get("a", version=1, now=T0, compute=compute) == 4       # "a" had made room for "c"
    assert await small.get("c", version=1, now=T0, compute=compute) == 3
