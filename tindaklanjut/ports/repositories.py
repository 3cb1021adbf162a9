"""The repositories the handlers work with, as abstract classes. The SQL
implementations (adapters) and the in-memory fakes (tests) both subclass
them, so they cannot drift apart."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import date, datetime

from tindaklanjut.domain import events
from tindaklanjut.domain.evidence import EvidenceVersion
from tindaklanjut.domain.lifecycle import FollowUpRequest, RequestKind
from tindaklanjut.domain.users import User, WebSession
from tindaklanjut.domain.model import Assessment, Recommendation
from tindaklanjut.domain.report import ReportItem, StoredReport
from tindaklanjut.events.assessment import Unit
from tindaklanjut.ports.messages import OutboundMessage


class AbstractProcessedEvents(ABC):
    """De-duplication keys: CloudEvents (source, id) already handled."""

    async def preload(self, keys: set[tuple[str, str]]) -> None:
        """Look a batch of keys up at once (optional optimisation)."""

    @abstractmethod
    async def seen(self, source: str, event_id: str) -> bool: ...

    @abstractmethod
    def add(self, *, source: str, event_id: str, event_type: str, outcome: str, at: datetime) -> None: ...

    @abstractmethod
    async def count_redelivery(self, source: str, event_id: str) -> None: ...


class AbstractDirectory(ABC):
    """Agencies and units as the newest assessment names them."""

    units: dict[str, Unit]

    @abstractmethod
    async def preload(self, mentions: list[tuple[Unit, datetime]]) -> None: ...

    @abstractmethod
    async def upsert_unit(self, unit: Unit, published_at: datetime) -> None: ...

    @abstractmethod
    async def agency_region(self, agency_id: str) -> str | None: ...

    @abstractmethod
    async def unit_region(self, unit_id: str) -> str | None: ...


class AbstractAssessments(ABC):
    async def preload(self, assessment_ids: set[str]) -> None:
        """Look a batch up at once (optional optimisation)."""

    @abstractmethod
    async def latest_revision(self, assessment_id: str) -> int | None: ...

    @abstractmethod
    def add(self, assessment: Assessment, payload_json: str, received_at: datetime) -> None:
        """Keep the assessment and the JSON text of the validated payload it came with."""


class AbstractRecommendations(ABC):
    seen: list[Recommendation]

    @abstractmethod
    def add(self, recommendation: Recommendation) -> None: ...

    @abstractmethod
    async def get(self, recommendation_id: str) -> Recommendation | None: ...

    @abstractmethod
    async def save(self, recommendation: Recommendation, at: datetime) -> None:
        """Write back a change; `ConcurrentChange` if the stored version moved on since it was read."""

    @abstractmethod
    async def for_assessment(self, assessment_id: str) -> list[Recommendation]: ...

    @abstractmethod
    async def open_in_earlier_cycles(self, unit_id: str, cycle: str) -> list[Recommendation]: ...

    async def preload_units(self, unit_ids: set[str]) -> None:
        """Look a batch up at once (optional optimisation)."""

    @abstractmethod
    async def record_next_cycle_scores(self, unit_id: str, cycle: str, assessment_id: str,
                                       ratios: dict[str, float]) -> None: ...

    @abstractmethod
    async def apply_next_cycle_scores(self) -> int: ...


class AbstractOutbox(ABC):
    added: int

    @abstractmethod
    def add(self, message: OutboundMessage, at: datetime) -> None: ...


class AbstractDeadLetters(ABC):
    @abstractmethod
    async def exists(self, *, topic: str, partition: int, offset: int, sha256: str) -> bool: ...

    @abstractmethod
    def add(self, *, topic: str, partition: int, offset: int, sha256: str, reason_code: str, reason: str,
            errors: list[dict], raw: bytes, at: datetime) -> None: ...


class AbstractAuditTrail(ABC):
    @abstractmethod
    def add(self, event: events.FollowUpChanged) -> None: ...


class AbstractEvidence(ABC):
    @abstractmethod
    async def next_version(self, recommendation_id: str) -> int: ...

    @abstractmethod
    async def count(self, recommendation_id: str) -> int: ...

    @abstractmethod
    def add(self, version: EvidenceVersion) -> None: ...


class AbstractRequests(ABC):
    @abstractmethod
    async def get(self, request_id: str) -> FollowUpRequest | None: ...

    @abstractmethod
    async def pending_for(self, recommendation_id: str, kind: RequestKind) -> FollowUpRequest | None: ...

    @abstractmethod
    async def save(self, request: FollowUpRequest) -> None:
        """A new request, or a decision; a decision lands only while the request is pending
        (`ConcurrentChange` otherwise)."""


class AbstractUsers(ABC):
    @abstractmethod
    async def get(self, name: str) -> User | None: ...

    @abstractmethod
    async def by_token_hash(self, token_hash: str) -> User | None: ...

    @abstractmethod
    async def all(self) -> list[User]: ...

    @abstractmethod
    def add(self, user: User) -> None: ...

    @abstractmethod
    async def save(self, user: User) -> None: ...

    @abstractmethod
    def open_session(self, session: WebSession) -> None: ...

    @abstractmethod
    async def find_session(self, token_hash: str) -> WebSession | None: ...

    @abstractmethod
    async def close_session(self, token_hash: str) -> None: ...

    @abstractmethod
    async def close_sessions_of(self, name: str) -> None:
        """Log a user out everywhere (password reset, account disabled)."""


class CycleAlreadyClosed(Exception):
    """Another close of the same cycle stored its report first."""


class AbstractCycles(ABC):
    @abstractmethod
    async def recommendations(self, framework: str, cycle: str, *, region: str | None = None,
                              agency_id: str | None = None) -> list[tuple[Recommendation, ReportItem]]:
        """Every recommendation of the cycle (optionally only agencies in `region`, or one agency),
        with its report item."""

    @abstractmethod
    async def has_assessments(self, framework: str, cycle: str) -> bool: ...

    @abstractmethod
    async def report(self, framework: str, cycle: str) -> StoredReport | None: ...

    @abstractmethod
    async def add_report(self, report: StoredReport) -> None:
        """Store the closing report at once; `CycleAlreadyClosed` when another close came first."""

    @abstractmethod
    async def windows(self) -> dict[tuple[str, str], date]:
        """The end of each open cycle's follow-up window."""
