"""The cycle report in the browser (`/laporan`): its tables, and the same
report as CSV for Excel, XLSX and an A4 PDF."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from tindaklanjut.adapters import report_export
from tindaklanjut.api import queries
from tindaklanjut.api.deps import ContainerDep, SessionDep
from tindaklanjut.api.errors import ApiError, call_service
from tindaklanjut.formatting import waktu
from tindaklanjut.service_layer import cycles
from tindaklanjut.web import exports
from tindaklanjut.web.deps import PageError, ReaderActor, render, templates

router = APIRouter(include_in_schema=False)
Choice = Annotated[str | None, Query(max_length=100)]


async def _report(container, current, framework: str, cycle: str):
    try:
        return await call_service(cycles.cycle_report(container.uow(), current, framework, cycle,
                                                      clock=container.clock))
    except ApiError as exc:
        raise PageError(exc.status, "Laporan tidak tersedia", exc.message) from None


def _cells(table) -> list[list[str]]:
    def cell(value, column: int) -> str:
        if value is None:
            return "–"
        if column in table.rate_columns and isinstance(value, float | int):
            return f"{value * 100:.1f}%".replace(".", ",")
        if isinstance(value, float):
            return f"{value:.2f}".replace(".", ",")
        return str(value)
    return [[cell(v, i) for i, v in enumerate(row)] for row in table.rows]


@router.get("/laporan")
async def report_page(request: Request, session: SessionDep, container: ContainerDep, current: ReaderActor,
                      kerangka: Choice = None, siklus: Choice = None):
    choices = await queries.overdue_choices(session, current)
    framework = kerangka or (choices["frameworks"][0] if choices["frameworks"] else None)
    cycle = siklus or (choices["cycles"][0] if choices["cycles"] else None)
    tables = []
    if framework and cycle:
        found = await _report(container, current, framework, cycle)
        tables = [(t.title, t.headers, _cells(t)) for t in report_export.tables(found)]
    return render(request, "report.html", choices=choices, framework=framework, cycle=cycle, tables=tables,
                  query=f"?kerangka={framework}&siklus={cycle}" if framework and cycle else "")


def _name(framework: str, cycle: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", f"laporan-siklus-{framework}-{cycle}")


def _file(content: bytes, media_type: str, filename: str) -> Response:
    return Response(content, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "private, no-store"})


@router.get("/laporan.csv")
async def report_csv(container: ContainerDep, current: ReaderActor, kerangka: Annotated[str, Query(max_length=100)],
                     siklus: Annotated[str, Query(max_length=100)]) -> Response:
    found = await _report(container, current, kerangka, siklus)
    return _file(report_export.to_csv(found, excel=True).encode("utf-8"), exports.CSV_MEDIA_TYPE,
                 f"{_name(kerangka, siklus)}.csv")


@router.get("/laporan.xlsx")
async def report_xlsx(container: ContainerDep, current: ReaderActor, kerangka: Annotated[str, Query(max_length=100)],
                      siklus: Annotated[str, Query(max_length=100)]) -> Response:
    found = await _report(container, current, kerangka, siklus)
    return _file(report_export.to_xlsx(found), report_export.XLSX_MEDIA_TYPE, f"{_name(kerangka, siklus)}.xlsx")


@router.get("/laporan.pdf")
async def report_pdf(container: ContainerDep, current: ReaderActor, kerangka: Annotated[str, Query(max_length=100)],
                     siklus: Annotated[str, Query(max_length=100)]) -> Response:
    found = await _report(container, current, kerangka, siklus)
    tables = [(t.title, t.headers, _cells(t)) for t in report_export.tables(found)]
    html = templates.get_template("print_report.html").render(
        framework=kerangka, cycle=siklus, tables=tables, printed=waktu(container.clock(), "31"),
        scope=current.agency_id or current.region or "semua wilayah")
    return _file(exports.overdue_pdf(html), exports.PDF_MEDIA_TYPE, f"{_name(kerangka, siklus)}.pdf")
