"""What a broker restart costs, and making up for it (bookkeeping in the
database; no domain rule here).

A broker whose storage does not survive a restart (the embedded one keeps
everything in memory) loses every message it held. The database is the
system of record, so what this system published is published again from the
outbox (consumers de-duplicate on the CloudEvents id); what others published
to it and was not consumed yet is reported, so they can publish it again
(idempotent on the evaluators' side too).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from tindaklanjut.adapters.orm import BrokerEpochRow, OutboxRow, ProcessedEventRow


async def broker_started(sessions: async_sessionmaker, bootstrap: str, at: datetime) -> int:
    """Record a new life of the broker; returns its id."""
    async with sessions() as session, session.begin():
        row = BrokerEpochRow(bootstrap=bootstrap, started_at=at)
        session.add(row)
        await session.flush()
        return row.id


async def replay_outbox(sessions: async_sessionmaker, since: datetime) -> int:
    """Mark every row published at or after `since` as unpublished again, so
    the relay publishes it once more. Returns how many."""
    async with sessions() as session, session.begin():
        result = await session.execute(update(OutboxRow).where(OutboxRow.published_at >= since,
                                                               OutboxRow.parked_at.is_(None))
                                       .values(published_at=None))
        return result.rowcount


async def broker_lost(sessions: async_sessionmaker, epoch_id: int, at: datetime) -> int:
    """The broker of `epoch_id` died at `at`: everything published to it since
    it started is published again. Returns how many outbox rows."""
    async with sessions() as session:
        epoch = await session.get(BrokerEpochRow, epoch_id)
    count = await replay_outbox(sessions, epoch.started_at)
    async with sessions() as session, session.begin():
        await session.execute(update(BrokerEpochRow).where(BrokerEpochRow.id == epoch_id)
                              .values(lost_at=at, republished=count))
    return count


async def restarts(sessions: async_sessionmaker) -> list[dict]:
    """Every broker life that ended in a loss, newest first, with the moment
    from which input sent to it may not have been consumed (the last event
    this system processed before the loss)."""
    async with sessions() as session:
        epochs = (await session.scalars(select(BrokerEpochRow).where(BrokerEpochRow.lost_at.is_not(None))
                                        .order_by(BrokerEpochRow.id.desc()))).all()
        answers = []
        for epoch in epochs:
            last = await session.scalar(select(func.max(ProcessedEventRow.processed_at)).where(
                ProcessedEventRow.processed_at >= epoch.started_at, ProcessedEventRow.processed_at <= epoch.lost_at))
            answers.append({"bootstrap": epoch.bootstrap, "started_at": epoch.started_at.isoformat(),
                            "lost_at": epoch.lost_at.isoformat(), "republished": epoch.republished,
                            "input_may_be_lost_since": (last or epoch.started_at).isoformat()})
    return answers
