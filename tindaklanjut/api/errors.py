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


async def call_service(call):
    """Await a service-layer call, translating what it raises into an `ApiError`."""
    try:
        return await call
    except followup.NotFound:
        raise ApiError(404, "not_found", "rekomendasi atau permohonan tidak ditemukan") from None
    except cycles.CycleNotFound:
        raise ApiError(404, "not_found", "siklus tidak ditemukan: belum ada hasil penilaian yang diterima") from None
    except NotPermitted as exc:
        raise ApiError(403, "forbidden", str(exc)) from None
    except ConcurrentChange as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    except IllegalTransition as exc:
        raise ApiError(409, "illegal_transition", str(exc)) from None
    except EvidenceTooLarge as exc:
        raise ApiError(413, "too_large", str(exc)) from None
    except EvidenceRejected as exc:
        raise ApiError(415, "unsupported_type", str(exc)) from None
    except DomainError as exc:
        raise ApiError(400, "invalid", str(exc)) from None
