"""Messages crossing the boundary: a consumed message as it came off the
wire, and an outbound message for the relay."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, kw_only=True)
class Origin:
    """Where a consumed message came from (for dead letters and logs)."""

    topic: str
    partition: int = 0
    offset: int = -1


@dataclass(frozen=True, kw_only=True)
class IngestAssessment:
    """Process one raw `assessment.published` message as it came off the wire."""

    raw: bytes
    origin: Origin
    key: bytes | None = None
    # Kafka headers as received: binary-mode CloudEvents carry their attributes in `ce_*` headers.
    headers: tuple[tuple[str, bytes], ...] = ()
    # The message worked out ahead, before the database is involved (`service_layer.preparing`:
    # the prepared assessment, or the `Rejected` reason); None means the handler prepares it.
    prepared: Any = field(default=None, compare=False)


@dataclass(frozen=True, kw_only=True)
class OutboundMessage:
    """A Kafka message to be relayed: logical topic, key, value bytes, headers."""

    topic: str
    key: str | None
    event_type: str
    event_id: str
    value: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)
