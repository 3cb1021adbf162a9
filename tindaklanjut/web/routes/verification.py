"""The verifier's queue ("Menunggu verifikasi") and decisions on requests."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse

from tindaklanjut.api import queries
from tindaklanjut.api.deps import ContainerDep, SessionDep, dispatch
from tindaklanjut.api.errors import ApiError
from tindaklanjut.service_layer.commands import DecideRequest
from tindaklanjut.web.deps import CsrfChecked, PageError, VerifierActor, render
from tindaklanjut.web.routes.items import NOTICES

router = APIRouter(include_in_schema=False)


PAGE_SIZE = 50


@router.get("/verifikasi")
async def queue(request: Request, session: SessionDep, container: ContainerDep, current: VerifierActor,
                mulai: Annotated[int, Query(ge=0, le=10_000_000)] = 0):
    now = container.clock()
    submitted = await queries.list_recommendations(session, current, now, status="submitted", unit_id=None,
                                                   overdue=None, limit=PAGE_SIZE, offset=mulai)
    total = await queries.count_recommendations(session, current, now, status="submitted")
    pending = await queries.list_requests(session, current, "pending")
    evidence = await queries.evidence_of(session, [item.id for item in submitted])
    return render(request, "queue.html", submitted=submitted, pending=pending, evidence=evidence, total=total,
                  offset=mulai, limit=PAGE_SIZE,
                  notice=NOTICES.get(request.query_params.get("ok", "")))


async def _decide(container, current, request_id: str, approve: bool, catatan: str, kembali: str):
    back = kembali if kembali.startswith("/") and not kembali.startswith("//") else "/verifikasi"
    try:
        await dispatch(container, DecideRequest(actor=current, request_id=request_id, approve=approve,
                                                comment=catatan.strip() or None))
    except ApiError as exc:
        raise PageError(exc.status, "Permohonan tidak dapat diputuskan", exc.message) from None
    separator = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{separator}ok={'setujui' if approve else 'tolak'}", status_code=303)


@router.post("/permohonan/{request_id}/setujui", dependencies=[CsrfChecked])
async def approve(request_id: str, container: ContainerDep, current: VerifierActor,
                  catatan: Annotated[str, Form(max_length=4000)] = "",
                  kembali: Annotated[str, Form(max_length=500)] = "/verifikasi"):
    return await _decide(container, current, request_id, True, catatan, kembali)


@router.post("/permohonan/{request_id}/tolak", dependencies=[CsrfChecked])
async def reject(request_id: str, container: ContainerDep, current: VerifierActor,
                 catatan: Annotated[str, Form(max_length=4000)] = "",
                 kembali: Annotated[str, Form(max_length=500)] = "/verifikasi"):
    return await _decide(container, current, request_id, False, catatan, kembali)
