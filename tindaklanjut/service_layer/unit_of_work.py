"""The unit of work: one transaction; the domain events the aggregates
recorded become outbox rows (and audit entries) inside it, so state and the
events announcing it commit together. `adapters.unit_of_work` is the SQL
one; tests subclass this with fakes."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime, timezone

from tindaklanjut.domain import events
from tindaklanjut.ports.reminders import AbstractReminderStore
from tindaklanjut.service_layer import outbound
from tindaklanjut.ports.repositories import (AbstractAssessments, AbstractAuditTrail, AbstractDeadLetters,
                                                     AbstractDirectory, AbstractEvidence, AbstractOutbox,
                                                     AbstractProcessedEvents, AbstractRecommendations,
                                                     AbstractRequests, AbstractUsers, AbstractCycles)


class AbstractUnitOfWork(ABC):
    processed: AbstractProcessedEvents
    directory: AbstractDirectory
    assessments: AbstractAssessments
    recommendations: AbstractRecommendations
    outbox: AbstractOutbox
    dead_letters: AbstractDeadLetters
    audit: AbstractAuditTrail
    evidence: AbstractEvidence
    requests: AbstractRequests
    users: AbstractUsers
    cycles: AbstractCycles
    reminders: AbstractReminderStore

    def __init__(self, *, on_commit: Callable[[], None] | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.on_commit = on_commit
        self.clock = clock

    @abstractmethod
    async def __aenter__(self) -> "AbstractUnitOfWork": ...

    @abstractmethod
    async def __aexit__(self, *exc_info) -> None:
        """Roll back whatever was not committed."""

    async def commit(self) -> None:
        self.collect_events()
        await self._commit()
        if self.on_commit and self.outbox.added:
            self.on_commit()

    @abstractmethod
    async def _commit(self) -> None: ...

    async def write_while(self, work: Callable[[], None]) -> None:
        """Write the new rows held for commit while `work` (CPU only, no database) runs. Here,
        without a database to wait for, the work just runs; the SQL unit of work overlaps the two."""
        work()

    @abstractmethod
    async def rollback(self) -> None: ...

    def collect_events(self) -> None:
        """Domain events of every recommendation touched -> audit entries and outbox rows, encoded once."""
        now = self.clock()
        for rec in self.recommendations.seen:
            while rec.events:
                event = rec.events.pop(0)
                if isinstance(event, events.RecommendationIssued):
                    self.outbox.add(outbound.recommendation_issued(rec, self.directory.units[rec.unit_id]), now)
                elif isinstance(event, events.FollowUpChanged):
                    self.audit.add(event)
                    self.outbox.add(outbound.followup_changed(rec, event), now)
