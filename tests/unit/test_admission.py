"""Reads are admitted a few at a time, in order of arrival; writes and probes never wait."""

from __future__ import annotations

import asyncio

from tindaklanjut.api.admission import ReadAdmission


class SlowApp:
    """An ASGI app that records how many requests are inside at once and in which order they entered."""

    def __init__(self) -> None:
        self.inside = self.most = 0
        self.entered: list[str] = []
        self.release = asyncio.Event()

    async def __call__(self, scope, receive, send) -> None:
        self.inside += 1
        self.most = max(self.most, self.inside)
        self.entered.append(scope["path"])
        await self.release.wait()
        self.inside -= 1


def request(path: str, method: str = "GET") -> dict:
    return {"type": "http", "method": method, "path": path}


async def _noop(*_):
    return None


async def test_at_most_the_limit_of_reads_run_at_once_and_the_rest_enter_in_arrival_order():
    app = SlowApp()
    guard = ReadAdmission(app, concurrency=2)
    tasks = []
    for number in range(6):
        tasks.append(asyncio.ensure_future(guard(request(f"/r{number}"), _noop, _noop)))
        await asyncio.sleep(0)
    await asyncio.sleep(0.01)
    assert app.inside == 2 and app.entered == ["/r0", "/r1"]
    app.release.set()
    await asyncio.gather(*tasks)
    assert app.most == 2 and app.entered == [f"/r{n}" for n in range(6)]


async def test_writes_probes_and_metrics_do_not_wait_behind_reads():
    app = SlowApp()
    guard = ReadAdmission(app, concurrency=1)
    waiting = [asyncio.ensure_future(guard(request("/api/v1/overdue"), _noop, _noop)) for _ in range(3)]
    await asyncio.sleep(0.01)
    others = [asyncio.ensure_future(guard(request(path, method), _noop, _noop))
              for path, method in (("/api/v1/recommendations/x/evidence", "POST"), ("/healthz", "GET"),
                                   ("/readyz", "GET"), ("/metrics", "GET"))]
    await asyncio.sleep(0.01)
    assert app.inside == 5 and app.entered[1:] == ["/api/v1/recommendations/x/evidence", "/healthz", "/readyz",
                                                   "/metrics"]
    app.release.set()
    await asyncio.gather(*waiting, *others)
    assert len(app.entered) == 7
