"""The verifier uploads an assessment spreadsheet (the shipped template, XLSX
or CSV) in the browser: the same row-level checks as `tindaklanjut publish`,
then each valid assessment is published through the same command as
`POST /api/v1/assessments`, with a summary of what happened to each."""

from __future__ import annotations

import json
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile
from starlette.concurrency import run_in_threadpool

from tindaklanjut.adapters import spreadsheet
from tindaklanjut.api import queries
from tindaklanjut.api.deps import ContainerDep, SessionDep, dispatch
from tindaklanjut.api.errors import ApiError
from tindaklanjut.ports.validation import Rejected
from tindaklanjut.service_layer.commands import PublishAssessment
from tindaklanjut.web.deps import CsrfChecked, EvaluatorActor, render

router = APIRouter(include_in_schema=False)
SUFFIXES = (".xlsx", ".csv")


@router.get("/unggah-penilaian")
async def upload_form(request: Request, _current: EvaluatorActor):
    return render(request, "upload.html", outcomes=None)


def _outcome(event: dict, stored: dict[str, int]) -> tuple[str, str]:
    data = event["data"]
    assessment_id, revision = data["assessment_id"], int(data.get("revision", 1))
    previous = stored.get(assessment_id)
    if previous is None:
        return "baru", "diterima: penilaian baru"
    if revision > previous:
        return "revisi", f"diterima: revisi {revision} menggantikan revisi {previous}"
    return "duplikat", f"sudah ada (revisi {previous}); tidak diproses ulang"


@router.post("/unggah-penilaian", dependencies=[CsrfChecked])
async def upload(request: Request, session: SessionDep, container: ContainerDep, _current: EvaluatorActor,
                 berkas: Annotated[UploadFile, File()]):
    name = berkas.filename or ""
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        return render(request, "upload.html", status_code=415, outcomes=None,
                      error="Unggah berkas .xlsx atau .csv sesuai templat.")
    content = await berkas.read(container.settings.evidence_max_bytes + 1)
    if len(content) > container.settings.evidence_max_bytes:
        return render(request, "upload.html", status_code=413, outcomes=None,
                      error=f"Berkas melebihi {container.settings.evidence_max_bytes // (1024 * 1024)} MB.")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"unggahan{suffix}"
        path.write_bytes(content)
        try:
            result = await run_in_threadpool(spreadsheet.import_results, path, container.catalogue,
                                             now=datetime.now(timezone.utc))
        except (ValueError, KeyError, OSError) as exc:
            return render(request, "upload.html", status_code=400, outcomes=None,
                          error=f"Berkas tidak dapat dibaca sebagai templat penilaian: {exc}")
    stored = await queries.stored_revisions(session, [e["data"]["assessment_id"] for e in result.events])
    outcomes = []
    for event in result.events:
        kind, text = _outcome(event, stored)
        if kind != "duplikat":
            try:
                await dispatch(container, PublishAssessment(raw=json.dumps(event).encode()))
            except (Rejected, ApiError) as exc:
                kind, text = "ditolak", f"ditolak: {getattr(exc, 'message', exc)}"
        outcomes.append({"assessment_id": event["data"]["assessment_id"], "unit": event["data"]["unit"]["name"],
                         "kind": kind, "text": text})
    for assessment_id in result.skipped_assessments:
        outcomes.append({"assessment_id": assessment_id, "unit": "", "kind": "ditolak",
                         "text": "ditolak: ada kesalahan pada barisnya (lihat di atas)"})
    return render(request, "upload.html", status_code=200, outcomes=outcomes, errors=[str(e) for e in result.errors],
                  rows=result.rows, filename=name)
