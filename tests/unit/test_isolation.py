"""Poison isolation and the retry policy, without a database: which errors
are outages, how a failing batch is narrowed, and how often a message is
tried before it is dead-lettered."""

import asyncio
import sqlite3

import pytest
from aiokafka.errors import KafkaConnectionError
from sqlalchemy import exc as sa_exc
from structlog.testing import capture_logs

from tindaklanjut.ports import retrying
from tindaklanjut.ports.retrying import describe, is_transient, retry_transient
from tindaklanjut.service_layer.isolation import handle_isolating


class PgError(Exception):
    def __init__(self, sqlstate):
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


def _dbapi(original, cls=sa_exc.DBAPIError):
    return cls("SELECT 1", {}, original)


@pytest.mark.parametrize("error", [
    ConnectionRefusedError(), TimeoutError(), OSError("network"), KafkaConnectionError(),
    _dbapi(sqlite3.OperationalError("database is locked"), sa_exc.OperationalError),
    _dbapi(PgError("40001")), _dbapi(PgError("40P01")), _dbapi(PgError("08006")), _dbapi(PgError("57P01")),
    _dbapi(PgError("53300")), _dbapi(PgError("55P03")), sa_exc.TimeoutError("pool"),
])
def test_outages_are_transient(error):
    assert is_transient(error)


@pytest.mark.parametrize("error", [
    ValueError("bad"), KeyError("x"), _dbapi(sqlite3.IntegrityError("unique"), sa_exc.IntegrityError),
    _dbapi(PgError("23505"), sa_exc.IntegrityError), _dbapi(PgError("22003")), _dbapi(PgError("22021")),
    _dbapi(PgError(None)),
])
def test_defects_and_bad_data_are_not(error):
    assert not is_transient(error)


def test_a_connection_lost_midway_is_transient():
    error = _dbapi(PgError("XX000"))
    error.connection_invalidated = True
    assert is_transient(error)


def test_describe_is_short_and_storable():
    assert describe(ValueError("a\x00b")) == "ValueError: a\\0b"
    long = describe(RuntimeError("x" * 1000), limit=50)
    assert len(long) == 51 and long.endswith("…")


async def test_retry_transient_retries_outages_and_raises_the_rest(monkeypatch):
    monkeypatch.setattr(retrying, "wait_exponential", lambda **_: lambda state: 0)
    calls = {"n": 0}

    async def flaky():
        calls["n"] += 1
        if calls["n"] < 3:
            raise ConnectionResetError()
        return "done"

    assert await retry_transient(flaky, name="t") == "done" and calls["n"] == 3

    async def defect():
        calls["n"] += 1
        raise KeyError("defect")

    calls["n"] = 0
    with pytest.raises(KeyError):
        await retry_transient(defect, name="t")
    assert calls["n"] == 1

    async def down():
        calls["n"] += 1
        raise ConnectionResetError()

    calls["n"] = 0
    with pytest.raises(ConnectionResetError):
        await retry_transient(down, name="t", attempts=4)
    assert calls["n"] == 4


async def test_a_good_batch_is_handled_once():
    seen = []

    async def handle(batch):
        seen.append(list(batch))
        return len(batch)

    async def dead_letter(item, error):
        raise AssertionError("nothing to dead-letter")

    assert await handle_isolating([1, 2, 3], handle=handle, dead_letter=dead_letter, max_tries=3, name="t") == [3]
    assert seen == [[1, 2, 3]]


async def test_a_failing_batch_is_narrowed_to_its_poison():
    tries, dead = {}, []

    async def handle(batch):
        for item in batch:
            if item == "poison":
                tries[len(batch)] = tries.get(len(batch), 0) + 1
                raise ValueError("cannot")
        return [f"ok:{i}" for i in batch]

    async def dead_letter(item, error):
        dead.append((item, str(error)))
        return f"dead:{item}"

    results = await handle_isolating(["a", "poison", "b"], handle=handle, dead_letter=dead_letter, max_tries=3,
                                     name="t")
    assert results == [["ok:a"], "dead:poison", ["ok:b"]]
    assert dead == [("poison", "cannot")]
    assert tries == {3: 1, 1: 3}        # the batch once, then alone `max_tries` times


async def test_a_single_failing_message_counts_its_first_try():
    calls = []

    async def handle(batch):
        calls.append(batch)
        raise ValueError("always")

    async def dead_letter(item, error):
        return "dead"

    assert await handle_isolating(["only"], handle=handle, dead_letter=dead_letter, max_tries=2, name="t") == ["dead"]
    assert len(calls) == 2


async def test_a_message_that_recovers_is_not_dead_lettered():
    state = {"failures": 0}

    async def handle(batch):
        if "flaky" in batch and state["failures"] < 2:
            state["failures"] += 1
            raise ValueError("once more")
        return list(batch)

    async def dead_letter(item, error):
        raise AssertionError("should not happen")

    assert await handle_isolating(["x", "flaky"], handle=handle, dead_letter=dead_letter, max_tries=3,
                                  name="t") == [["x"], ["flaky"]]


async def fails_on_poison(batch):
    if "poison" in batch:
        raise ValueError("cannot")
    return list(batch)


async def dead_letter_write_fails(item, error):
    raise RuntimeError("disk full")


async def test_a_failing_dead_letter_does_not_halt_the_rest():
    assert await handle_isolating(["poison", "b"], handle=fails_on_poison, dead_letter=dead_letter_write_fails,
                                  max_tries=1, name="t") == [["b"]]


async def test_cancellation_is_never_swallowed():
    async def handle(batch):
        raise asyncio.CancelledError()

    async def dead_letter(item, error):
        return "dead"

    with pytest.raises(asyncio.CancelledError):
        await handle_isolating(["x"], handle=handle, dead_letter=dead_letter, max_tries=3, name="t")


async def test_isolation_logs_the_batch_each_failure_and_a_dead_letter_that_failed():
    with capture_logs() as logs:
        results = await handle_isolating(["poison", "b", "c"], handle=fails_on_poison,
                                         dead_letter=dead_letter_write_fails, max_tries=2, name="ingest")
    assert results == [["b"], ["c"]]
    assert [(e["event"], e["log_level"]) for e in logs] == [
        ("ingest.batch_failed", "warning"), ("ingest.message_failed", "warning"),
        ("ingest.message_failed", "warning"), ("ingest.dead_letter_failed", "critical")]
    batch, first, second, lost = logs
    assert (batch["size"], batch["error"]) == (3, "ValueError: cannot")
    assert [(first["tries"], first["error"]), (second["tries"], second["error"])] == \
        [(1, "ValueError: cannot"), (2, "ValueError: cannot")]
    assert (lost["error"], lost["cause"]) == ("RuntimeError: disk full", "ValueError: cannot")


async def test_an_outage_is_retried_under_the_isolations_name():
    calls = []

    async def handle(batch):
        calls.append(list(batch))
        if len(calls) == 1:
            raise ConnectionRefusedError("database restarting")
        return list(batch)

    async def dead_letter(item, error):
        raise AssertionError("an outage is never dead-lettered")

    with capture_logs() as logs:
        assert await handle_isolating(["a"], handle=handle, dead_letter=dead_letter, max_tries=2,
                                      name="ingest") == [["a"]]
    assert [e["event"] for e in logs] == ["ingest.transient_failure"] and logs[0]["attempt"] == 1
