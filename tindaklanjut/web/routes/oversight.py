"""The secretary's pages: the summary (`/ringkasan`) with its charts, and the
overdue list (`/terlambat`) grouped by agency and unit, with its exports
(CSV, XLSX, PDF). Counts come from the same read models as `GET /api/v1/overdue`."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from tindaklanjut.api import queries
from tindaklanjut.api.deps import ContainerDep, SessionDep
from tindaklanjut.api.summary import summary
from tindaklanjut.formatting import PRIORITY, waktu
from tindaklanjut.web import charts, exports
from tindaklanjut.web.deps import ReaderActor, render, templates

router = APIRouter(include_in_schema=False)
TABLE_FORMATS = {"csv": (exports.overdue_csv, exports.CSV_MEDIA_TYPE),
                 "xlsx": (exports.overdue_xlsx, exports.XLSX_MEDIA_TYPE)}
Filter = Annotated[str | None, Query(max_length=200)]


@router.get("/ringkasan")
async def summary_page(request: Request, session: SessionDep, container: ContainerDep, current: ReaderActor,
                       kerangka: Filter = None, siklus: Filter = None):
    data = await summary(session, current, container.clock(), framework=kerangka or None, cycle=siklus or None)
    choices = await queries.overdue_choices(session, current)
    pictures = {name: charts.data_uri(svg) for name, svg in charts.summary_charts(data).items()}
    return render(request, "summary.html", data=data, charts=pictures, choices=choices,
                  filters={"kerangka": kerangka, "siklus": siklus})


async def _overdue(session, container, current, kerangka, siklus, prioritas, instansi) -> list[dict]:
    return await queries.overdue(session, current, container.clock(), framework=kerangka or None,
                                 cycle=siklus or None, priority=prioritas or None, agency_id=instansi or None)


@router.get("/terlambat")
async def overdue_page(request: Request, session: SessionDep, container: ContainerDep, current: ReaderActor,
                       kerangka: Filter = None, siklus: Filter = None, prioritas: Filter = None,
                       instansi: Filter = None):
    groups = await _overdue(session, container, current, kerangka, siklus, prioritas, instansi)
    choices = await queries.overdue_choices(session, current)
    shown = {"kerangka": kerangka, "siklus": siklus, "prioritas": prioritas, "instansi": instansi}
    query = urlencode({k: v for k, v in shown.items() if v})
    return render(request, "overdue.html", groups=groups, total=sum(a["overdue"] for a in groups),
                  choices=choices, filters=shown, priorities=list(PRIORITY.items()),
                  query=f"?{query}" if query else "")


def _download(content: bytes, media_type: str, filename: str) -> Response:
    return Response(content, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "private, no-store"})


@router.get("/terlambat.pdf")
async def overdue_pdf(request: Request, session: SessionDep, container: ContainerDep, current: ReaderActor,
                      kerangka: Filter = None, siklus: Filter = None, prioritas: Filter = None,
                      instansi: Filter = None) -> Response:
    now = container.clock()
    groups = await _overdue(session, container, current, kerangka, siklus, prioritas, instansi)
    data = await summary(session, current, now, framework=kerangka or None, cycle=siklus or None)
    pictures = {name: charts.data_uri(svg) for name, svg in charts.summary_charts(data).items()}
    scope = current.agency_id or current.region or "semua wilayah"
    html = templates.get_template("print.html").render(
        groups=groups, data=data, charts=pictures, scope=scope, printed=waktu(now, "31"),
        total=sum(a["overdue"] for a in groups))
    return _download(exports.overdue_pdf(html), exports.PDF_MEDIA_TYPE, f"terlambat-{exports.stamp(now)}.pdf")


@router.get("/terlambat.{extension}")
async def overdue_table(extension: Annotated[str, Path(pattern="^(csv|xlsx)$")], session: SessionDep,
                        container: ContainerDep, current: ReaderActor, kerangka: Filter = None, siklus: Filter = None,
                        prioritas: Filter = None, instansi: Filter = None) -> Response:
    """The overdue list as CSV for Excel or as XLSX."""
    groups = await _overdue(session, container, current, kerangka, siklus, prioritas, instansi)
    write, media_type = TABLE_FORMATS[extension]
    return _download(write(groups, container.settings.public_url), media_type,
                     f"terlambat-{exports.stamp(container.clock())}.{extension}")
