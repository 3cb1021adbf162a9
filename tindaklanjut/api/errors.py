"""Domain and service errors as clear HTTP answers (one place for every router)."""

from __future__ import annotations

from tindaklanjut.ports.evidence import EvidenceRejected, EvidenceTooLarge
from tindaklanjut.api import models
from tindaklanjut.domain.lifecycle import ConcurrentChange, DomainError, IllegalTransition, NotPermitted
from tindaklanjut.service_layer import cycles, followup

ERRORS = {status: {"model": models.Problem} for status in (400, 401, 403, 404, 409, 413, 415, 429)}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        self.status, self.code, self.message = status, code, message


# Most specific first: the first class that matches answers. A message of None means the exception's own text.
TRANSLATIONS: tuple[tuple[type[Exception], int, str, str | None], ...] = (
    (followup.NotFound, 404, "not_found", "rekomendasi atau permohonan tidak ditemukan"),
    (cycles.CycleNotFound, 404, "not_found", "siklus tidak ditemukan: belum ada hasil penilaian yang diterima"),
    (NotPermitted, 403, "forbidden", None),
    (ConcurrentChange, 409, "conflict", None),
    (IllegalTransition, 409, "illegal_transition", None),
    (EvidenceTooLarge, 413, "too_large", None),
    (EvidenceRejected, 415, "unsupported_type", None),
    (DomainError, 400, "invalid", None),
)
TRANSLATED = tuple(cls for cls, *_ in TRANSLATIONS)


async def call_service(call):
    """Await a service-layer call, translating what it raises into an `ApiError`."""
    try:
        return await call
    except TRANSLATED as exc:
        status, code, message = next((status, code, message) for cls, status, code, message in TRANSLATIONS
                                     if isinstance(exc, cls))
        raise ApiError(status, code, str(exc) if message is None else message) from None
