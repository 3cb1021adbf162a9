"""The secretary's overdue view."""

from typing import Annotated

import orjson
from fastapi import APIRouter, Query
from fastapi.responses import Response

from tindaklanjut.api import models, queries
from tindaklanjut.api.deps import ContainerDep, ReadCacheDep, ReaderActor
from tindaklanjut.api.errors import ERRORS
from tindaklanjut.bootstrap import Container
from tindaklanjut.domain.lifecycle import Actor

router = APIRouter(prefix="/api/v1/overdue", tags=["sekretariat"])


async def _answer(container: Container, current: Actor, region: str | None, limit: int | None, offset: int,
                  items: int | None) -> tuple[bytes, dict[str, str]]:
    """The view serialised once, with its headers (a session of its own: the answer may be shared)."""
    now = container.clock()
    headers = {}
    async with container.read_sessions() as session:
        if limit is None:
            groups = await queries.overdue(session, current, now, region, per_agency=items)
        else:
            page, agencies, total = await queries.overdue_page(session, current, now, region, limit=limit,
                                                               offset=offset)
            groups = await queries.overdue(session, current, now, region, agency_ids=list(page),
                                           per_agency=items, totals=page) if page else []
            headers = {"X-Total-Agencies": str(agencies), "X-Total-Overdue": str(total)}
    return orjson.dumps(groups), headers


@router.get("", response_model=list[models.OverdueAgency], responses=ERRORS,
            summary="Rekomendasi lewat tenggat, per instansi dan unit (opsional per halaman instansi)")
async def overdue(container: ContainerDep, cache: ReadCacheDep, current: ReaderActor,
                  region: Annotated[str | None, Query(max_length=20)] = None,
                  limit: Annotated[int | None, Query(ge=1, le=1000, description="instansi per halaman")] = None,
                  offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
                  items: Annotated[int | None, Query(ge=1, le=1000, description=(
                      "paling banyak sekian butir per instansi, yang paling lama lewat tenggat; `overdue` "
                      "tetap jumlah seluruhnya"))] = None) -> Response:
    """All overdue items, or with `limit` one page of agencies (most overdue first); the headers
    `X-Total-Agencies` and `X-Total-Overdue` give the whole view's totals. With `items`, each
    agency lists only its longest-overdue items (the full list of one agency:
    `GET /api/v1/recommendations?overdue=true`). The answer may be reused for a few seconds by
    everyone with the same scope, as long as no new event was written."""
    # Each step holds a pooled connection only while it runs: a request that held one while it waited
    # for a shared computation (which needs another) could starve the pool under load.
    async with container.read_sessions() as session:
        version = await queries.data_version(session)
    scope = (current.role, current.agency_id, current.region)
    body, headers = await cache.get(
        (scope, region, limit, offset, items), version=version,
        now=container.clock(), compute=lambda: _answer(container, current, region, limit, offset, items))
    # Already in the documented shape: serialised once, not re-validated.
    return Response(body, media_type="application/json", headers=headers)
