"""`cycle.closed` -> close the cycle (lapses, report, outbox), called by the recommender's
consumer; and the periodic job that closes cycles whose follow-up window has ended."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timezone

import faust
import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from tindaklanjut.bootstrap import Container
from tindaklanjut.config import Settings
from tindaklanjut.service_layer.commands import CloseDueCycles, HandleCycleClosed
from tindaklanjut.ports.messages import Origin

log = structlog.get_logger(__name__)
CLOSE_DUE_JOB_ID = "cycles.close_due"
CLOSE_DUE_INTERVAL = 3600.0     # a window ends at midnight WIB; closing within the hour is soon enough


def register_window_closer(app: faust.App, settings: Settings, container: Container) -> None:
    """Close cycles whose follow-up window ended (role `scheduler`; several replicas are safe:
    a second close of the same cycle finds its report stored)."""

    @app.task
    async def cycle_window_closer() -> None:
        """Its own scheduler: switching reminders off does not stop cycles from closing."""
        await run_close_due_scheduler(container, container.clock)


async def run_close_due_scheduler(container: Container, clock: Callable[[], datetime],
                                  interval: float | None = None, stop: asyncio.Event | None = None) -> None:
    scheduler = AsyncIOScheduler(timezone=timezone.utc)
    add_close_due_job(scheduler, container, clock, interval or CLOSE_DUE_INTERVAL)
    scheduler.start()
    log.info("cycles.scheduler_started", interval=interval or CLOSE_DUE_INTERVAL)
    try:
        await (stop or asyncio.Event()).wait()
    finally:
        scheduler.shutdown(wait=False)


async def handle_until_committed(container: Container, raw: bytes, origin: Origin) -> str:
    """Close (or dead-letter); the offset is committed only after this returns."""
    outcome = await container.bus.handle(HandleCycleClosed(raw=raw, origin=origin))
    log.info("cycle_closed.handled", outcome=outcome, offset=origin.offset)
    return outcome


async def close_due_job(container: Container, clock: Callable[[], datetime]) -> None:
    """Close the cycles whose follow-up window has ended; errors wait for the next run."""
    try:
        for outcome in await container.bus.handle(CloseDueCycles(now=clock())):
            log.info("cycle.closed_at_window_end", framework=outcome.framework, cycle=outcome.cycle,
                     lapsed=outcome.lapsed)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.error("cycles.close_due_failed", error=repr(exc))


def add_close_due_job(scheduler, container: Container, clock: Callable[[], datetime],
                      interval: float = CLOSE_DUE_INTERVAL) -> None:
    """Add the hourly close-due job to an APScheduler scheduler. The first run
    is one interval after the start."""
    scheduler.add_job(close_due_job, IntervalTrigger(seconds=interval, timezone=timezone.utc), args=[container, clock],
                      id=CLOSE_DUE_JOB_ID, max_instances=1, coalesce=True, misfire_grace_time=None)
