"""Cycle routes: close a cycle, read its report (JSON, CSV or XLSX).
Secretaries read the report of their region's agencies only."""

import re
from dataclasses import asdict
from datetime import datetime
from enum import Enum
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response
from pydantic import BaseModel

from tindaklanjut.adapters import report_export
from tindaklanjut.api.deps import ContainerDep, EvaluatorActor, ReaderActor, dispatch
from tindaklanjut.api.errors import ERRORS, call_service
from tindaklanjut.domain.report import CycleReport
from tindaklanjut.events import cycle as wire
from tindaklanjut.service_layer import cycles
from tindaklanjut.service_layer.commands import CloseCycle

FrameworkPath = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9_.-]*$",
                                    description="e.g. `panrb-pekppp`, `ombudsman-kepatuhan`")]
CyclePath = Annotated[str, Path(pattern=r"^[0-9]{4}$", description="the cycle (year)")]
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
REPORT_RESPONSES = {**ERRORS, 200: {
    "description": "Laporan siklus: JSON (bawaan), CSV atau XLSX sesuai `format`",
    "content": {"text/csv": {"schema": {"type": "string"}},
                report_export.XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}}}


class ReportFormat(str, Enum):
    json = "json"
    csv = "csv"
    xlsx = "xlsx"


class CloseOut(BaseModel):
    framework: str
    cycle: str
    closed_at: datetime
    closed_by: str
    lapsed: int
    already_closed: bool
    report: wire.CycleReport


def _wire(report: CycleReport) -> wire.CycleReport:
    return wire.CycleReport.model_validate(asdict(report))


router = APIRouter(prefix="/api/v1/cycles", tags=["siklus"])


@router.post("/{framework}/{cycle}/close", response_model=CloseOut, responses=ERRORS,
             summary="Tutup siklus: rekomendasi yang belum selesai menjadi kedaluwarsa, laporan disimpan")
async def close(framework: FrameworkPath, cycle: CyclePath, container: ContainerDep,
                current: EvaluatorActor) -> CloseOut:
    outcome = await dispatch(container, CloseCycle(actor=current, framework=framework, cycle=cycle))
    return CloseOut(framework=outcome.framework, cycle=outcome.cycle, closed_at=outcome.closed_at,
                    closed_by=outcome.closed_by, lapsed=outcome.lapsed, already_closed=outcome.already_closed,
                    report=_wire(outcome.report))


@router.get("/{framework}/{cycle}/report", response_model=wire.CycleReport, responses=REPORT_RESPONSES,
            summary="Laporan siklus (sementara bila siklus belum ditutup)")
async def report(framework: FrameworkPath, cycle: CyclePath, container: ContainerDep, current: ReaderActor,
                 format: ReportFormat = ReportFormat.json):
    found = await call_service(cycles.cycle_report(container.uow(), current, framework, cycle, clock=container.clock))
    if format is ReportFormat.json:
        return _wire(found)
    name = re.sub(r"[^A-Za-z0-9._-]", "_", f"laporan-siklus-{framework}-{cycle}")
    if format is ReportFormat.csv:
        return Response(report_export.to_csv(found), media_type=CSV_MEDIA_TYPE,
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    return Response(report_export.to_xlsx(found), media_type=report_export.XLSX_MEDIA_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
