"""The recommender's consumer keeps two fetches in flight: the next one is prepared while the
previous one is applied, but the work itself runs one fetch at a time, in order, and a fetch's
offsets are committed only after its work is done (never for work cancelled half-way)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from aiokafka import TopicPartition

from tindaklanjut.config import Settings
from tindaklanjut.services import consumer as consumer_service

TP = TopicPartition("assessment.published", 0)


class ScriptedConsumer:
    """Answers `getmany` with the scripted fetches, then with nothing; records commits."""

    def __init__(self, fetches: list[int], log: list, stop: asyncio.Event) -> None:
        self.fetches, self.log, self.stop_event = list(fetches), log, stop
        self.committed: list[int] = []

    async def start(self) -> None: ...

    def subscribe(self, topics, listener=None) -> None: ...

    async def getmany(self, timeout_ms: int = 0, max_records: int | None = None):
        if self.fetches:
            last = self.fetches.pop(0)
            return {TP: [SimpleNamespace(offset=last)]}
        await asyncio.sleep(0.01)
        if not self.fetches and self.log.count("applied") == self.log.count("prepared"):
            self.stop_event.set()
        return {}

    async def commit(self, offsets) -> None:
        self.log.append("commit")
        self.committed.append(offsets[TP])

    async def stop(self) -> None: ...


def _patch(monkeypatch, scripted: ScriptedConsumer, log: list, apply_seconds: float, applying: list):
    monkeypatch.setattr(consumer_service.kafka, "consumer", lambda *args, **kwargs: scripted)

    async def prepare_fetch(container, settings, fetched):
        offset = fetched[TP][-1].offset
        log.append("prepared")
        log.append(("prepare", offset))
        return consumer_service.Fetch(assessments=[], closed=[], offsets={TP: offset + 1})

    async def apply_fetch(container, fetch):
        applying.append(fetch.offsets[TP])
        assert len(applying) == 1, "two fetches applied at once"
        log.append(("apply", fetch.offsets[TP] - 1))
        await asyncio.sleep(apply_seconds)
        log.append(("applied", fetch.offsets[TP] - 1))
        log.append("applied")
        applying.remove(fetch.offsets[TP])
        return fetch.offsets

    monkeypatch.setattr(consumer_service, "prepare_fetch", prepare_fetch)
    monkeypatch.setattr(consumer_service, "apply_fetch", apply_fetch)


async def test_fetches_are_applied_in_order_and_committed_after_their_work(monkeypatch):
    log, applying, stop = [], [], asyncio.Event()
    scripted = ScriptedConsumer([9, 19, 29, 39], log, stop)
    _patch(monkeypatch, scripted, log, apply_seconds=0.05, applying=applying)
    await asyncio.wait_for(consumer_service.run_consumer(Settings(environment="test"), None, stop), 10)
    steps = [entry for entry in log if isinstance(entry, tuple)]
    assert [offset for kind, offset in steps if kind == "apply"] == [9, 19, 29, 39]
    assert scripted.committed == [10, 20, 30, 40]                 # every fetch, in order, once
    for offset in (9, 19, 29, 39):       # a fetch's offsets are committed only after its work is done
        assert log.index(("applied", offset)) < [i for i, e in enumerate(log) if e == "commit"][
            scripted.committed.index(offset + 1)]
    # the next fetch is prepared while the previous one is still being applied
    assert log.index(("prepare", 19)) < log.index(("applied", 9))


async def test_work_cancelled_half_way_is_never_committed(monkeypatch):
    log, applying, stop = [], [], asyncio.Event()
    scripted = ScriptedConsumer([9, 19], log, stop)
    _patch(monkeypatch, scripted, log, apply_seconds=30, applying=applying)
    task = asyncio.create_task(consumer_service.run_consumer(Settings(environment="test"), None, stop))
    while ("apply", 9) not in log:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert scripted.committed == []
    assert ("applied", 9) not in log
