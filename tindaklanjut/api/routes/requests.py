"""Extension and not-actionable requests: list them, decide them."""

from fastapi import APIRouter

from tindaklanjut.api import models, queries
from tindaklanjut.api.deps import ContainerDep, CurrentActor, SessionDep, VerifierActor, dispatch
from tindaklanjut.api.errors import ERRORS
from tindaklanjut.domain.lifecycle import RequestStatus
from tindaklanjut.service_layer.commands import DecideRequest

router = APIRouter(prefix="/api/v1/requests", tags=["evaluator"], responses=ERRORS)


@router.get("", response_model=list[models.RequestOut])
async def list_requests(session: SessionDep, current: CurrentActor,
                        status: RequestStatus | None = None) -> list[models.RequestOut]:
    return await queries.list_requests(session, current, status.value if status else None)


@router.post("/{request_id}/approve", response_model=models.RequestOut, summary="Setujui permohonan")
async def approve(request_id: str, body: models.CommentIn, container: ContainerDep,
                  current: VerifierActor) -> models.RequestOut:
    await dispatch(container, DecideRequest(actor=current, request_id=request_id, approve=True, comment=body.comment))
    return await queries.request_by_id(container, current, request_id)


@router.post("/{request_id}/reject", response_model=models.RequestOut, summary="Tolak permohonan")
async def reject(request_id: str, body: models.CommentIn, container: ContainerDep,
                 current: VerifierActor) -> models.RequestOut:
    await dispatch(container, DecideRequest(actor=current, request_id=request_id, approve=False,
                                            comment=body.comment))
    return await queries.request_by_id(container, current, request_id)
