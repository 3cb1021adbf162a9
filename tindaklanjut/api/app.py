"""The FastAPI application. Routes are thin: authenticate, turn the request
into a service-layer call, map domain errors to clear 4xx answers."""

from collections.abc import Callable
from typing import Annotated

import orjson
from fastapi import Depends, FastAPI, File, Form, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tindaklanjut.adapters.evidence_store import EvidenceStore
from tindaklanjut.api import models, queries
from tindaklanjut.api.cycles import cycle_router
from tindaklanjut.api.errors import ERRORS, ApiError, call_service
from tindaklanjut.api.guard import BodyTooLarge, FailedLogins, RequestGuard
from tindaklanjut.bootstrap import Container
from tindaklanjut.domain.lifecycle import Actor, RequestKind, RequestStatus, Role, Status
from tindaklanjut import views
from tindaklanjut.service_layer import broker_epochs, followup, handlers
from tindaklanjut.service_layer.validation import Rejected

bearer = HTTPBearer(auto_error=False, description="Token dari `tindaklanjut users add`")


def create_api(container: Container, *, failed_logins: FailedLogins | None = None) -> FastAPI:
    settings = container.settings
    store = EvidenceStore(settings.resolved_evidence_dir, settings.evidence_max_bytes)

    api = FastAPI(title="tindaklanjut", version="1",
                  description="Tindak lanjut rekomendasi hasil penilaian pelayanan publik.")
    api.add_middleware(RequestGuard, container=container, failed_logins=failed_logins)

    @api.exception_handler(BodyTooLarge)
    async def _too_large(_request: Request, exc: BodyTooLarge) -> JSONResponse:
        return JSONResponse(status_code=413, content={"code": "too_large", "message": exc.detail})

    @api.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(status_code=exc.status, content={"code": exc.code, "message": exc.message},
                            headers=headers)

    @api.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": ".".join(str(p) for p in e["loc"]), "msg": e["msg"], "type": e["type"]}
                  for e in exc.errors()]
        return JSONResponse(status_code=422, content={"detail": errors})

    async def actor(request: Request,
                    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Actor:
        # Authenticated by the guard before the body was read.
        found = getattr(request.state, "actor", None)
        if found is None:
            raise ApiError(401, "unauthenticated", "token diperlukan")
        return found

    def require(*roles: Role) -> Callable:
        async def check(current: Annotated[Actor, Depends(actor)]) -> Actor:
            if current.role not in roles and current.role is not Role.ADMIN:
                raise ApiError(403, "forbidden", f"peran {current.role.value} tidak berwenang")
            return current
        return check

    Authenticated = Annotated[Actor, Depends(actor)]
    Agency = Annotated[Actor, Depends(require(Role.AGENCY))]
    Evaluator = Annotated[Actor, Depends(require(Role.EVALUATOR))]
    Reader = Annotated[Actor, Depends(require(Role.SECRETARY, Role.EVALUATOR))]

    run = call_service

    async def detail(current: Actor, recommendation_id: str) -> models.RecommendationDetail:
        async with container.sessions() as session:
            found = await queries.get_recommendation(session, current, recommendation_id, container.clock())
        if found is None:
            raise ApiError(404, "not_found", "rekomendasi tidak ditemukan")
        return found

    @api.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(status_code=204)

    @api.post("/api/v1/assessments", status_code=202, response_model=models.AcceptedOut, responses=ERRORS,
              tags=["evaluator"], summary="Publikasikan hasil penilaian (CloudEvent assessment.published)")
    async def publish_assessment(request: Request, _current: Evaluator) -> models.AcceptedOut:
        raw = await request.body()
        try:
            message = await handlers.accept_assessment(raw, uow=container.uow(), catalogue=container.catalogue,
                                                       limits=settings.limits(), clock=container.clock)
        except Rejected as rejected:
            raise ApiError(400, rejected.code, rejected.message) from None
        return models.AcceptedOut(accepted=True, topic=message.topic, key=message.key)

    @api.get("/api/v1/recommendations", response_model=list[models.RecommendationOut], responses=ERRORS,
             tags=["rekomendasi"])
    async def list_recommendations(
            current: Authenticated, status: Status | None = None, unit: str | None = None,
            overdue: bool | None = None, limit: Annotated[int, Query(ge=1, le=1000)] = 200,
            offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0) -> list[models.RecommendationOut]:
        async with container.sessions() as session:
            return await queries.list_recommendations(session, current, container.clock(),
                                                      status=status.value if status else None, unit_id=unit,
                                                      overdue=overdue, limit=limit, offset=offset)

    @api.get("/api/v1/recommendations/{recommendation_id}", response_model=models.RecommendationDetail,
             responses=ERRORS, tags=["rekomendasi"], summary="Rekomendasi dengan linimasa (audit trail)")
    async def get_recommendation(recommendation_id: str, current: Authenticated) -> models.RecommendationDetail:
        return await detail(current, recommendation_id)

    @api.post("/api/v1/recommendations/{recommendation_id}/actions", response_model=models.RecommendationDetail,
              responses=ERRORS, tags=["instansi"], summary="Catat tindak lanjut")
    async def record_action(recommendation_id: str, body: models.RequiredCommentIn,
                            current: Agency) -> models.RecommendationDetail:
        await run(followup.record_action(container.uow(), current, recommendation_id, body.comment,
                                         clock=container.clock))
        return await detail(current, recommendation_id)

    @api.post("/api/v1/recommendations/{recommendation_id}/evidence", response_model=models.EvidenceOut,
              status_code=201, responses=ERRORS, tags=["instansi"], summary="Unggah bukti dukung (berkas)")
    async def upload_evidence(recommendation_id: str, current: Agency, file: Annotated[UploadFile, File()],
                              description: Annotated[str | None, Form(max_length=1000)] = None) -> models.EvidenceOut:
        content = await file.read(settings.evidence_max_bytes + 1)
        row = await run(followup.add_evidence(container.uow(), store, current, recommendation_id,
                                              clock=container.clock, filename=file.filename or "",
                                              content=content, description=description))
        return models.EvidenceOut(**row.model_dump(include=set(models.EvidenceOut.model_fields)))

    @api.post("/api/v1/recommendations/{recommendation_id}/links", response_model=models.EvidenceOut,
              status_code=201, responses=ERRORS, tags=["instansi"], summary="Tambahkan tautan bukti dukung")
    async def add_link(recommendation_id: str, body: models.LinkIn, current: Agency) -> models.EvidenceOut:
        row = await run(followup.add_evidence(container.uow(), store, current, recommendation_id,
                                              clock=container.clock, url=str(body.url),
                                              description=body.description))
        return models.EvidenceOut(**row.model_dump(include=set(models.EvidenceOut.model_fields)))

    @api.post("/api/v1/recommendations/{recommendation_id}/submit", response_model=models.RecommendationDetail,
              responses=ERRORS, tags=["instansi"], summary="Ajukan penyelesaian untuk diverifikasi")
    async def submit(recommendation_id: str, body: models.CommentIn, current: Agency) -> models.RecommendationDetail:
        await run(followup.submit(container.uow(), current, recommendation_id, body.comment, clock=container.clock))
        return await detail(current, recommendation_id)

    @api.post("/api/v1/recommendations/{recommendation_id}/not-actionable", response_model=models.RequestOut,
              status_code=201, responses=ERRORS, tags=["instansi"],
              summary="Mohon status tidak dapat ditindaklanjuti")
    async def request_not_actionable(recommendation_id: str, body: models.NotActionableIn,
                                     current: Agency) -> models.RequestOut:
        request = await run(followup.request_exception(
            container.uow(), current, recommendation_id, kind=RequestKind.NOT_ACTIONABLE, reason=body.explanation,
            reason_code=body.reason_code, clock=container.clock))
        return await _request(request.id, current)

    @api.post("/api/v1/recommendations/{recommendation_id}/extension", response_model=models.RequestOut,
              status_code=201, responses=ERRORS, tags=["instansi"], summary="Mohon perpanjangan tenggat")
    async def request_extension(recommendation_id: str, body: models.ExtensionIn,
                                current: Agency) -> models.RequestOut:
        request = await run(followup.request_exception(
            container.uow(), current, recommendation_id, kind=RequestKind.EXTENSION, reason=body.reason,
            new_due_date=body.new_due_date, clock=container.clock))
        return await _request(request.id, current)

    @api.post("/api/v1/recommendations/{recommendation_id}/verify", response_model=models.RecommendationDetail,
              responses=ERRORS, tags=["evaluator"], summary="Verifikasi: tindak lanjut sesuai")
    async def verify(recommendation_id: str, body: models.CommentIn,
                     current: Evaluator) -> models.RecommendationDetail:
        await run(followup.verify(container.uow(), current, recommendation_id, body.comment, clock=container.clock))
        return await detail(current, recommendation_id)

    @api.post("/api/v1/recommendations/{recommendation_id}/request-changes",
              response_model=models.RecommendationDetail, responses=ERRORS, tags=["evaluator"],
              summary="Kembalikan ke instansi dengan catatan perbaikan")
    async def request_changes(recommendation_id: str, body: models.RequiredCommentIn,
                              current: Evaluator) -> models.RecommendationDetail:
        await run(followup.request_changes(container.uow(), current, recommendation_id, body.comment,
                                           clock=container.clock))
        return await detail(current, recommendation_id)

    async def _request(request_id: str, current: Actor) -> models.RequestOut:
        async with container.sessions() as session:
            for found in await queries.list_requests(session, current, None):
                if found.id == request_id:
                    return found
        raise ApiError(404, "not_found", "permohonan tidak ditemukan")

    @api.get("/api/v1/requests", response_model=list[models.RequestOut], responses=ERRORS, tags=["evaluator"])
    async def list_requests(current: Authenticated, status: RequestStatus | None = None) -> list[models.RequestOut]:
        async with container.sessions() as session:
            return await queries.list_requests(session, current, status.value if status else None)

    @api.post("/api/v1/requests/{request_id}/approve", response_model=models.RequestOut, responses=ERRORS,
              tags=["evaluator"], summary="Setujui permohonan")
    async def approve(request_id: str, body: models.CommentIn, current: Evaluator) -> models.RequestOut:
        await run(followup.decide_request(container.uow(), current, request_id, approve=True, comment=body.comment,
                                          clock=container.clock))
        return await _request(request_id, current)

    @api.post("/api/v1/requests/{request_id}/reject", response_model=models.RequestOut, responses=ERRORS,
              tags=["evaluator"], summary="Tolak permohonan")
    async def reject(request_id: str, body: models.CommentIn, current: Evaluator) -> models.RequestOut:
        await run(followup.decide_request(container.uow(), current, request_id, approve=False, comment=body.comment,
                                          clock=container.clock))
        return await _request(request_id, current)

    @api.get("/api/v1/overdue", response_model=list[models.OverdueAgency], responses=ERRORS, tags=["sekretariat"],
             summary="Rekomendasi lewat tenggat, per instansi dan unit")
    async def overdue(current: Reader, region: str | None = None) -> Response:
        async with container.sessions() as session:
            groups = await queries.overdue(session, current, container.clock(), region)
        # Already in the documented shape: serialise once, skip re-validation.
        return Response(orjson.dumps(groups), media_type="application/json")

    @api.get("/api/v1/status", responses=ERRORS, tags=["operasi"],
             summary="Keadaan sistem: penilaian diproses, surat mati, outbox tertunda atau diparkir, restart broker")
    async def status(_current: Evaluator) -> dict:
        return {**await views.stats(container.sessions),
                "outbox_parked_rows": await views.parked_outbox(container.sessions),
                "broker_restarts_detail": await broker_epochs.restarts(container.sessions)}

    api.include_router(cycle_router(container, require))
    api.state.container = container
    return api
