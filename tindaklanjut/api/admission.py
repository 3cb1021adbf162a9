"""Reads served at once per API process, the rest admitted in order of arrival.

Without it, two hundred concurrent readers all reach the database pool, whose queue lets a newly
arrived request take a connection that was being handed to one already waiting: the waiter goes
back to the end of the line, again and again. Measured with 200 clients (bench/api_load.py): the
median answer took 0.4 s but one in a hundred 2–3 s, as the API's own metrics showed. A fair
(first in, first out) semaphore in front of the pool gives everyone the same wait.

Only GET and HEAD requests queue here: an upload may take minutes on a slow line and must not
hold a place that a reader is waiting for. Probes and metrics never queue (an orchestrator must
see a busy replica as alive and ready).
"""

from __future__ import annotations

import asyncio

EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
QUEUED_METHODS = frozenset({"GET", "HEAD"})


class ReadAdmission:
    def __init__(self, app, *, concurrency: int) -> None:
        self.app = app
        # asyncio.Semaphore hands a released place to the longest waiter (Python 3.11.1+).
        self.places = asyncio.Semaphore(concurrency)

    async def __call__(self, scope, receive, send) -> None:
        if (scope["type"] != "http" or scope["method"] not in QUEUED_METHODS
                or scope["path"] in EXEMPT_PATHS):
            await self.app(scope, receive, send)
            return
        async with self.places:
            await self.app(scope, receive, send)
