"""CloudEvents 1.0 envelope, structured JSON mode.

Every message on every topic is one of these; the payload model depends on
``type``. Extension attributes are allowed (CloudEvents permits them) and kept.
"""

from __future__ import annotations

import re
import uuid
from functools import lru_cache
from datetime import date, datetime, timezone
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, field_validator

TYPE_PATTERN = r"^tindaklanjut\.[a-z_]+\.[a-z_]+\.v[0-9]+$"
CONTENT_TYPE = "application/cloudevents+json"

DataT = TypeVar("DataT", bound=BaseModel)

# Dates outside this window are typing errors; far-future ones also overflow
# when converted to UTC or to a deadline.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100


def _within_window(value: date) -> date:
    if not EARLIEST_YEAR <= value.year < LATEST_YEAR:
        raise ValueError(f"must lie between {EARLIEST_YEAR} and {LATEST_YEAR - 1}")
    return value


SaneDatetime = Annotated[AwareDatetime, AfterValidator(_within_window)]
SaneDate = Annotated[date, AfterValidator(_within_window)]
# Identifiers and short texts of the wire contract: bounded so no database column is surprised.
Identifier = Annotated[str, Field(min_length=1, max_length=200)]
Name = Annotated[str, Field(min_length=1, max_length=500)]


class CloudEvent(BaseModel, Generic[DataT]):
    """A CloudEvents 1.0 event whose ``data`` is a typed payload."""

    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: Literal["1.0"]
    id: Identifier
    source: Annotated[str, Field(min_length=1, max_length=1000)]
    type: str = Field(pattern=TYPE_PATTERN, max_length=200)
    time: SaneDatetime
    datacontenttype: Literal["application/json"]
    subject: Annotated[str, Field(max_length=1000)] | None = None
    data: DataT

    @field_validator("id", "source")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


@lru_cache(maxsize=64)
def topic_for_type(event_type: str) -> str:
    """`tindaklanjut.assessment.published.v1` -> `assessment.published` (remembered: every outbox
    message asks, four per ingested assessment, and there are only a few types)."""
    match = re.fullmatch(r"tindaklanjut\.([a-z_]+\.[a-z_]+)\.v[0-9]+", event_type)
    if not match:
        raise ValueError(f"not a tindaklanjut event type: {event_type!r}")
    return match.group(1)


def new_envelope(*, event_type: str, source: str, subject: str | None, data: BaseModel | dict[str, Any],
                 event_id: str | None = None, time: datetime | None = None) -> dict[str, Any]:
    """Build a structured-mode CloudEvent as a JSON-ready dict (a dict `data` is taken as it is)."""
    return {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "source": source,
        "type": event_type,
        "time": (time or datetime.now(timezone.utc)).isoformat(),
        "datacontenttype": "application/json",
        "subject": subject,
        "data": data if isinstance(data, dict) else data.model_dump(mode="json"),
    }
