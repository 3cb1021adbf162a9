"""Reminder scheduler: APScheduler 3.x drives the clock, the database holds
the work.

The job only says "sweep now"; what is due is decided by the sweep from the
rows (see docs/reminders.md). Several processes may run this scheduler at
once: planning is serialised by a lock row, digests are leased one at a time
with SKIP LOCKED, and every (recommendation, step, recipient) is UNIQUE.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import faust
import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from tindaklanjut.bootstrap import Container
from tindaklanjut.bootstrap_reminders import Reminders, reminders
from tindaklanjut.config import Settings

log = structlog.get_logger(__name__)
JOB_ID = "reminders.sweep"


async def sweep_job(service: Reminders) -> None:
    """One sweep at the service's current instant; errors are logged, the next run tries again."""
    try:
        await service.sweep()
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.error("reminders.sweep_failed", error=repr(exc))


def make_scheduler(service: Reminders, interval: float) -> AsyncIOScheduler:
    """An AsyncIOScheduler with one interval job (in memory: the due work
    lives in the database, not in a job store). Start it inside a running loop."""
    scheduler = AsyncIOScheduler(timezone=timezone.utc)
    scheduler.add_job(sweep_job, IntervalTrigger(seconds=interval, timezone=timezone.utc), args=[service],
                      id=JOB_ID, max_instances=1, coalesce=True, misfire_grace_time=None,
                      next_run_time=datetime.now(timezone.utc))
    return scheduler


async def run_scheduler(service: Reminders, interval: float, stop: asyncio.Event | None = None) -> None:
    """Sweep every `interval` seconds until cancelled (or `stop` is set)."""
    scheduler = make_scheduler(service, interval)
    scheduler.start()
    log.info("reminders.scheduler_started", interval=interval)
    try:
        await (stop or asyncio.Event()).wait()
    finally:
        scheduler.shutdown(wait=False)


def register(app: faust.App, settings: Settings, container: Container) -> None:
    if not settings.reminders_enabled:
        return

    @app.task
    async def reminder_scheduler() -> None:
        await run_scheduler(reminders(container), settings.reminder_sweep_interval)
