"""One version of the evidence for a recommendation: a stored file or a link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, kw_only=True)
class EvidenceVersion:
    recommendation_id: str
    version: int
    kind: str                      # file | link
    uploaded_by: str
    uploaded_at: datetime
    filename: str | None = None
    media_type: str | None = None
    size: int | None = None
    sha256: str | None = None
    url: str | None = None
    description: str | None = None
