"""The reminder tables as the reminder handlers see them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from tindaklanjut.domain.reminders import (Channel, Contact, DigestLine, PlannedDelivery, PlannedEscalation,
                                           ReminderTarget)


@dataclass(slots=True)
class DueRow:
    target: ReminderTarget
    next_at: datetime


@dataclass(frozen=True)
class ClaimedDigest:
    id: int
    uid: str
    channel: Channel
    address: str
    name: str
    day: date
    zone: str
    claims: int


class AbstractReminderStore(ABC):
    """The reminder tables: schedule, digests, deliveries, escalations, attempts, contacts."""

    @abstractmethod
    async def lock_planner(self, owner: str, at: datetime) -> None:
        """Serialise planners: the second one waits until the first commits,
        then finds the work already done. A crashed planner's transaction is
        rolled back and its lock released with it."""

    @abstractmethod
    async def reconcile(self) -> int:
        """Give every recommendation that may need reminders a schedule row,
        and mark the rows whose deadline changed as due for recomputation.
        Catches new recommendations and changed deadlines whoever wrote them."""

    @abstractmethod
    async def claim_due(self, now: datetime, *, after: tuple[datetime, str] | None, limit: int) -> list[DueRow]:
        """The next batch of due schedule rows, in (next_at, id) order after `after`.
        Only the planner (holding the planner lock) writes schedule rows, so
        reading them needs no row locks."""

    @abstractmethod
    async def due_batches(self, now: datetime, batch_size: int):
        """Every due schedule row, in batches of `batch_size`. On PostgreSQL one
        query streamed through a cursor, decoded by the driver (most of the cost
        at 10,000 rows; see docs/benchmarks.md); its snapshot is fixed, so the
        planner's writes between batches do not disturb it. Elsewhere keyset
        pages on the (next_at, recommendation_id) index."""

    @abstractmethod
    async def delivered(self, rec_ids: Sequence[str]) -> dict[str, set[tuple[str, str]]]: ...

    @abstractmethod
    async def escalated(self, rec_ids: Sequence[str]) -> dict[str, set[str]]: ...

    @abstractmethod
    async def contacts(self, agency_ids: Iterable[str]) -> list[Contact]: ...

    @abstractmethod
    async def digests_for(self, keys: Sequence[tuple[str, date]]) -> dict[tuple[str, date], tuple[int, str]]:
        """Existing digests (id, status) for (recipient key, day)."""

    @abstractmethod
    async def lock_pending_digests(self, ids: Sequence[int]) -> set[int]:
        """Of these digests, the ones still pending, locked until commit so a
        sender cannot freeze them while items are added."""

    @abstractmethod
    async def create_digests(self, first: dict[tuple[str, date], PlannedDelivery], at: datetime
                             ) -> dict[tuple[str, date], int]: ...

    @abstractmethod
    async def add_deliveries(self, planned: Sequence[tuple[PlannedDelivery, int]], at: datetime) -> None: ...

    @abstractmethod
    async def add_escalations(self, escalations: Sequence[PlannedEscalation], at: datetime) -> None: ...

    @abstractmethod
    async def reschedule(self, next_at: dict[str, datetime | None]) -> None: ...

    @abstractmethod
    async def forget(self, rec_ids: Sequence[str]) -> None:
        """Closed recommendations leave the schedule (a reopened one comes back through `reconcile`)."""

    @abstractmethod
    async def recommendation_facts(self, rec_ids: Sequence[str]) -> dict[str, dict]:
        """What events about these recommendations say about them."""

    @abstractmethod
    async def claim_digest(self, zones: Sequence[str], *, wall_now: datetime, lease_until: datetime, owner: str
                           ) -> ClaimedDigest | None:
        """Lease the next digest that may go out now: pending, left `sending` by a
        sender whose lease ran out (it crashed), or `retrying` whose pause is over."""

    @abstractmethod
    async def digest_lines(self, digest_id: int) -> list[DigestLine]: ...

    @abstractmethod
    async def finish_digest(self, digest_id: int, *, status: str, at: datetime, delivered: Sequence[int],
                            dropped: Sequence[int], error: str | None = None,
                            retry_at: datetime | None = None) -> None:
        """`sent` or `failed` end the digest and its deliveries; `retrying` keeps the deliveries
        planned and lets `claim_digest` take the digest again from `retry_at`."""

    @abstractmethod
    async def start_attempt(self, digest_id: int, channel: str, number: int, at: datetime) -> int: ...

    @abstractmethod
    async def finish_attempt(self, attempt_id: int, *, outcome: str, detail: str, at: datetime) -> None: ...

    @abstractmethod
    async def upsert_contacts(self, contacts: Sequence[Contact], at: datetime) -> tuple[int, int, int]:
        """Insert or update by (agency, unit, role). Returns (created, updated, unchanged)."""

    @abstractmethod
    async def wake_agencies(self, agency_ids: Iterable[str]) -> int:
        """New contacts: let the next sweep reconsider these agencies' steps
        that had nobody to go to."""

    @abstractmethod
    async def list_contacts(self) -> list[dict]: ...

    @abstractmethod
    async def list_digests(self, limit: int = 200) -> list[dict]: ...
