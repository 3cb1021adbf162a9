"""Liveness, readiness and Prometheus metrics (no authentication: for the
orchestrator and the scraper; they reveal counts, never content)."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from tindaklanjut.api import health
from tindaklanjut.api.deps import ContainerDep

router = APIRouter(tags=["operasi"])


@router.get("/healthz", summary="Proses hidup")
async def healthz() -> dict:
    return {"status": "ok"}


@router.get("/readyz", summary="Siap melayani: basis data (pada skema terbaru) dan broker terjangkau",
            responses={503: {"description": "belum siap; `checks` menyebut sebabnya"}})
async def readyz(container: ContainerDep) -> JSONResponse:
    database, broker = await health.database_check(container), await health.broker_check(container)
    checks = {"database": database[1], "broker": broker[1]}
    ready = database[0] and broker[0]
    return JSONResponse({"status": "ready" if ready else "not_ready", "checks": checks},
                        status_code=200 if ready else 503)


@router.get("/metrics", summary="Metrik Prometheus", response_class=Response)
async def metrics(request: Request) -> Response:
    return Response(await request.app.state.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
