"""The secretary's overdue view."""

from typing import Annotated

import orjson
from fastapi import APIRouter, Query
from fastapi.responses import Response

from tindaklanjut.api import models, queries
from tindaklanjut.api.deps import ContainerDep, ReaderActor, SessionDep
from tindaklanjut.api.errors import ERRORS

router = APIRouter(prefix="/api/v1/overdue", tags=["sekretariat"])


@router.get("", response_model=list[models.OverdueAgency], responses=ERRORS,
            summary="Rekomendasi lewat tenggat, per instansi dan unit (opsional per halaman instansi)")
async def overdue(session: SessionDep, container: ContainerDep, current: ReaderActor,
                  region: Annotated[str | None, Query(max_length=20)] = None,
                  limit: Annotated[int | None, Query(ge=1, le=1000, description="instansi per halaman")] = None,
                  offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> Response:
    """All overdue items, or with `limit` one page of agencies (most overdue first); the headers
    `X-Total-Agencies` and `X-Total-Overdue` give the whole view's totals."""
    now = container.clock()
    headers = {}
    if limit is None:
        groups = await queries.overdue(session, current, now, region)
    else:
        page, agencies, items = await queries.overdue_page(session, current, now, region, limit=limit,
                                                           offset=offset)
        groups = await queries.overdue(session, current, now, region, agency_ids=page) if page else []
        headers = {"X-Total-Agencies": str(agencies), "X-Total-Overdue": str(items)}
    # Already in the documented shape: serialise once, skip re-validation.
    return Response(orjson.dumps(groups), media_type="application/json", headers=headers)
