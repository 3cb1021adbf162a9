"""Unit of work: one database transaction; domain events go to the outbox
inside it, so state and the events announcing it commit together."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

from sqlalchemy.ext.asyncio import async_sessionmaker

from tindaklanjut.adapters import followup_repository, repository
from tindaklanjut.domain import events
from tindaklanjut.service_layer import outbound


class SqlUnitOfWork:
    def __init__(self, session_factory: async_sessionmaker, *, on_commit: Callable[[], None] | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.session_factory = session_factory
        self.on_commit = on_commit
        self.clock = clock

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
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.session.rollback()
        await self.session.close()

    def _collect_events(self) -> None:
        now = self.clock()
        for rec in self.recommendations.seen:
            while rec.events:
                event = rec.events.pop(0)
                # Only issuing has a wire event so far; other domain events
                # are recorded on the row (status) and not yet published.
                if isinstance(event, events.RecommendationIssued):
                    self.outbox.add(outbound.recommendation_issued(rec, self.directory.units[rec.unit_id]), now)
                elif isinstance(event, events.FollowUpChanged):
                    self.audit.add(event)
                    self.outbox.add(outbound.followup_changed(rec, event), now)

    async def commit(self) -> None:
        self._collect_events()
        await self.assessments.write_new()
        await self.processed.write_new()
        await self.recommendations.write_new()
        await self.outbox.write_new()
        await self.session.commit()
        if self.on_commit and self.outbox.added:
            self.on_commit()

    async def rollback(self) -> None:
        await self.session.rollback()
