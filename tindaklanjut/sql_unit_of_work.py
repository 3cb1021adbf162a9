"""The SQL unit of work: one database session and transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timezone

from sqlalchemy.ext.asyncio import async_sessionmaker

from tindaklanjut.adapters import cycle_repository, followup_repository, reminder_store, repository, user_repository
from tindaklanjut.service_layer.unit_of_work import AbstractUnitOfWork


class SqlUnitOfWork(AbstractUnitOfWork):
    def __init__(self, session_factory: async_sessionmaker, *, on_commit: Callable[[], None] | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        super().__init__(on_commit=on_commit, clock=clock)
        self.session_factory = session_factory

    async def __aenter__(self) -> "SqlUnitOfWork":
        self.session = self.session_factory()
        self.processed = repository.SqlProcessedEvents(self.session)
        self.directory = repository.SqlDirectory(self.session)
        self.assessments = repository.SqlAssessments(self.session)
        self.recommendations = repository.SqlRecommendations(self.session)
        self.outbox = repository.SqlOutbox(self.session)
        self.dead_letters = repository.SqlDeadLetters(self.session)
        self.audit = followup_repository.SqlAuditTrail(self.session)
        self.evidence = followup_repository.SqlEvidence(self.session)
        self.requests = followup_repository.SqlRequests(self.session)
        self.users = user_repository.SqlUsers(self.session)
        self.cycles = cycle_repository.SqlCycles(self.session)
        self.reminders = reminder_store.SqlReminderStore(self.session)
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.session.rollback()
        await self.session.close()

    async def _commit(self) -> None:
        await self._write_new_state()
        self.audit.write_new()
        await self.outbox.write_new()
        await self.session.commit()

    async def _write_new_state(self) -> None:
        await self.assessments.write_new()
        await self.processed.write_new()
        await self.recommendations.write_new()

    async def write_while(self, work: Callable[[], None]) -> None:
        """The new state rows go to the database while `work` runs: an ingest batch's outbox
        messages are built (CPU) while its thousands of rows are inserted, instead of the process
        waiting for the database first and then computing (docs/benchmarks.md, series J). `work`
        must not use the session; only one statement is in flight at a time."""
        writing = asyncio.ensure_future(self._write_new_state())
        try:
            await asyncio.sleep(0)       # the writes start: their rows are sent, the database works
            work()
        finally:
            await writing

    async def rollback(self) -> None:
        await self.session.rollback()
