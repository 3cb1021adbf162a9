"""The operator's view of the system's health."""

from fastapi import APIRouter

from tindaklanjut import views
from tindaklanjut.api.deps import ContainerDep, EvaluatorActor
from tindaklanjut.api.errors import ERRORS
from tindaklanjut.adapters import broker_epochs

router = APIRouter(prefix="/api/v1/status", tags=["operasi"])


@router.get("", responses=ERRORS,
            summary="Keadaan sistem: penilaian diproses, surat mati, outbox tertunda atau diparkir, restart broker")
async def status(container: ContainerDep, _current: EvaluatorActor) -> dict:
    return {**await views.stats(container.sessions),
            "outbox_parked_rows": await views.parked_outbox(container.sessions),
            "broker_restarts_detail": await broker_epochs.restarts(container.sessions)}
