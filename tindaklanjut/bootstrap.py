"""Wire the real dependencies once; entry points (agents, CLI, jobs) call
the handlers through the returned `Container`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from tindaklanjut.adapters.database import create_engine, session_factory
from tindaklanjut.config import Settings
from tindaklanjut.domain.frameworks import FrameworkCatalogue, load_frameworks
from tindaklanjut.domain.policy import Policy, load_policy
from tindaklanjut.service_layer import handlers
from tindaklanjut.service_layer.isolation import handle_isolating
from tindaklanjut.service_layer.messages import IngestAssessment
from tindaklanjut.service_layer.unit_of_work import SqlUnitOfWork


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Container:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker
    catalogue: FrameworkCatalogue
    policy: Policy
    clock: Callable[[], datetime] = utcnow
    on_outbox_commit: list[Callable[[], None]] = field(default_factory=list)

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.sessions, on_commit=self._outbox_committed, clock=self.clock)

    def _outbox_committed(self) -> None:
        for callback in self.on_outbox_commit:
            callback()

    async def ingest(self, commands: Sequence[IngestAssessment]) -> handlers.IngestReport:
        """One batch in one transaction; a poison message is isolated and dead-lettered."""
        reports = await handle_isolating(
            commands, name="assessments.ingest", max_tries=self.settings.poison_max_tries,
            handle=lambda batch: handlers.ingest_assessments(
                batch, uow=self.uow(), catalogue=self.catalogue, policy=self.policy, clock=self.clock,
                limits=self.settings.limits()),
            dead_letter=lambda command, error: handlers.dead_letter_unprocessable(
                self.uow(), command, error, clock=self.clock))
        total = handlers.IngestReport()
        for report in reports:
            total = total.add(report)
        return total

    async def close(self) -> None:
        await self.engine.dispose()


def bootstrap(settings: Settings, *, clock: Callable[[], datetime] | None = None) -> Container:
    if clock is None:
        fixed = settings.fixed_now
        clock = (lambda: fixed) if fixed is not None else utcnow
    engine = create_engine(settings.resolved_database_url)
    return Container(settings=settings, engine=engine, sessions=session_factory(engine),
                     catalogue=load_frameworks(), policy=load_policy(), clock=clock)
