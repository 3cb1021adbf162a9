"""The secretary's overdue view."""

import orjson
from fastapi import APIRouter
from fastapi.responses import Response

from tindaklanjut.api import models, queries
from tindaklanjut.api.deps import ContainerDep, ReaderActor, SessionDep
from tindaklanjut.api.errors import ERRORS

router = APIRouter(prefix="/api/v1/overdue", tags=["sekretariat"])


@router.get("", response_model=list[models.OverdueAgency], responses=ERRORS,
            summary="Rekomendasi lewat tenggat, per instansi dan unit")
async def overdue(session: SessionDep, container: ContainerDep, current: ReaderActor,
                  region: str | None = None) -> Response:
    groups = await queries.overdue(session, current, container.clock(), region)
    # Already in the documented shape: serialise once, skip re-validation.
    return Response(orjson.dumps(groups), media_type="application/json")
