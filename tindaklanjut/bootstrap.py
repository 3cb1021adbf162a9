"""Wire the real dependencies once: settings, engine, unit of work, evidence
store and the message bus. Entry points (agents, CLI, jobs, API routes) build
commands and hand them to `container.bus`; tests pass another clock."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from tindaklanjut.adapters.database import WriteTurn, create_engine, session_factory
from tindaklanjut.adapters.evidence_store import evidence_store
from tindaklanjut.adapters.notifications import channels_from_settings
from tindaklanjut.sql_unit_of_work import SqlUnitOfWork
from tindaklanjut.config import Settings
from tindaklanjut.domain.frameworks import FrameworkCatalogue, load_frameworks
from tindaklanjut.domain.policy import Policy, load_policy
from tindaklanjut.domain.reminders import load_reminder_policy
from tindaklanjut.service_layer import commands, handlers, preparing
from tindaklanjut.service_layer.command_handlers import COMMAND_HANDLERS
from tindaklanjut.service_layer.messagebus import MessageBus, inject
from tindaklanjut.ports.messages import IngestAssessment


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
    bus: MessageBus = field(init=False)

    def __post_init__(self) -> None:
        # Reads outside a transaction: one statement each, no BEGIN and ROLLBACK round trips (the
        # API's pages and lists; never a unit of work that writes).
        self.read_sessions = session_factory(self.engine.execution_options(isolation_level="AUTOCOMMIT"))
        self.write_turn = WriteTurn.for_engine(self.engine)     # ingest and the outbox relay, on SQLite
        self.evidence_store = evidence_store(self.settings)
        self.dependencies = {
            "new_uow": self.uow, "clock": self._now, "catalogue": self.catalogue, "policy": self.policy,
            "limits": self.settings.limits(), "poison_max_tries": self.settings.poison_max_tries,
            "evidence_store": self.evidence_store, "settings": self.settings,
            "reminder_policy": load_reminder_policy(), "channels": channels_from_settings(self.settings)}
        self.bus = self.bus_with()

    def bus_with(self, **overrides) -> MessageBus:
        """The bus with some dependencies replaced (other reminder channels, another clock)."""
        dependencies = {**self.dependencies, **overrides}
        return MessageBus({command: inject(handler, dependencies) for command, handler in COMMAND_HANDLERS.items()})

    def _now(self) -> datetime:
        return self.clock()      # late-bound: tests move the clock after bootstrap

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.sessions, on_commit=self._outbox_committed, clock=self._now)

    def reading_uow(self) -> SqlUnitOfWork:
        """A unit of work for lookups only (authentication): it reads outside a transaction."""
        return SqlUnitOfWork(self.read_sessions, clock=self._now)

    def _outbox_committed(self) -> None:
        for callback in self.on_outbox_commit:
            callback()

    async def ingest(self, messages: Sequence[IngestAssessment]) -> handlers.IngestReport:
        """Shorthand for the `IngestAssessments` command, in this process's turn to write."""
        async with self.write_turn:
            return await self.bus.handle(commands.IngestAssessments(messages=tuple(messages)))

    async def prepare_ahead(self, messages: Sequence[IngestAssessment]) -> list[IngestAssessment]:
        """The messages prepared for a later `ingest` (see `service_layer.preparing`)."""
        return await preparing.prepare_ahead(messages, catalogue=self.catalogue, policy=self.policy,
                                             limits=self.dependencies["limits"], clock=self._now)

    async def close(self) -> None:
        await self.engine.dispose()


def bootstrap(settings: Settings, *, clock: Callable[[], datetime] | None = None) -> Container:
    if clock is None:
        fixed = settings.fixed_now
        clock = (lambda: fixed) if fixed is not None else utcnow
    engine = create_engine(settings.resolved_database_url, pool_size=settings.database_pool_size,
                           max_overflow=settings.database_max_overflow)
    return Container(settings=settings, engine=engine, sessions=session_factory(engine),
                     catalogue=load_frameworks(), policy=load_policy(), clock=clock)
