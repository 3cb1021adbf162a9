"""Recommendations in the browser: the list with filters and search, the page
of one item (`/rekomendasi/{id}`, the same id as the API's), its evidence
downloads, and the agency's and verifier's follow-up forms. Every form builds
the same command as the API route and dispatches it on the bus."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse
from pydantic import HttpUrl, TypeAdapter, ValidationError

from tindaklanjut.api import queries
from tindaklanjut.api.deps import ContainerDep, SessionDep, dispatch
from tindaklanjut.api.downloads import INLINE_TYPES, evidence_response
from tindaklanjut.api.errors import ApiError
from tindaklanjut.api.guard import MAX_FILES_PER_FORM
from tindaklanjut.bootstrap import Container
from tindaklanjut.domain.access import owns
from tindaklanjut.domain.lifecycle import Actor, ReasonCode, Role, Status
from tindaklanjut.domain.plans import BUDGET_LABELS, BudgetSource
from tindaklanjut.formatting import REASON, STATUS
from tindaklanjut.service_layer import commands
from tindaklanjut.web.deps import CsrfChecked, PageError, WebActor, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
Text = Annotated[str, Form(max_length=4000)]
NOTICES = {"tindakan": "Tindak lanjut dicatat.", "bukti": "Bukti dukung diunggah.",
           "tautan": "Tautan ditambahkan.", "ajukan": "Diajukan untuk verifikasi.",
           "perpanjangan": "Permohonan perpanjangan dikirim.", "tidak-dapat": "Permohonan dikirim.",
           "verifikasi": "Tindak lanjut diverifikasi.", "perbaikan": "Dikembalikan ke instansi untuk perbaikan.",
           "setujui": "Permohonan disetujui.", "tolak": "Permohonan ditolak.",
           "rencana": "Rencana aksi diajukan.", "rencana-setujui": "Rencana aksi disetujui.",
           "rencana-kembalikan": "Rencana aksi dikembalikan.", "tahap": "Tahap ditandai selesai."}
ACTABLE = {Status.OPEN.value, Status.IN_PROGRESS.value, Status.CHANGES_REQUESTED.value}


@router.get("/rekomendasi")
async def list_page(request: Request, session: SessionDep, container: ContainerDep, current: WebActor,
                    q: Annotated[str | None, Query(max_length=100)] = None,
                    status: Annotated[str | None, Query(max_length=40)] = None,
                    unit: Annotated[str | None, Query(max_length=200)] = None,
                    terlambat: Annotated[str | None, Query(max_length=5)] = None,
                    mulai: Annotated[int, Query(ge=0, le=10_000_000)] = 0):
    now = container.clock()
    status = status if status in STATUS else None
    filters = dict(status=status, unit_id=unit or None, overdue=True if terlambat else None, search=q or None)
    items = await queries.list_recommendations(session, current, now, limit=PAGE_SIZE, offset=mulai, **filters)
    total = await queries.count_recommendations(session, current, now, **filters)
    units = await queries.visible_units(session, current)
    shown = {"q": q, "status": status, "unit": unit, "terlambat": terlambat}

    def page_url(offset: int) -> str:
        return "/rekomendasi?" + urlencode({k: v for k, v in {**shown, "mulai": offset}.items() if v})

    heading = "Rekomendasi instansi Anda" if current.role is Role.AGENCY else "Rekomendasi"
    return render(request, "list.html", heading=heading, items=items, total=total, offset=mulai, limit=PAGE_SIZE,
                  units=units, unit_names=dict(units), filters=shown, statuses=list(STATUS.items()),
                  show_status_filter=True, page_url=page_url)


async def _item_page(request: Request, container: Container, current: Actor, recommendation_id: str, *,
                     error: str | None = None, status_code: int = 200, ok: str | None = None):
    async with container.sessions() as session:
        item = await queries.get_recommendation(session, current, recommendation_id, container.clock())
        if item is None:
            raise PageError(404, "Tidak ditemukan", "Rekomendasi ini tidak ada atau bukan untuk Anda.")
        requests = await queries.list_requests(session, current, None, recommendation_id)
    back = request.headers.get("referer") or ""
    return render(request, "item.html", status_code=status_code, item=item, requests=requests, error=error,
                  notice=NOTICES.get(ok or ""), can_act=owns(current, item.agency_id) and item.status in ACTABLE,
                  can_verify=current.role in (Role.EVALUATOR, Role.VERIFIER, Role.ADMIN), inline_types=INLINE_TYPES,
                  reasons=[(code.value, REASON[code.value]) for code in ReasonCode],
                  max_files=MAX_FILES_PER_FORM, max_mb=container.settings.evidence_max_bytes // (1024 * 1024),
                  budgets=[(b.value, label) for b, label in BUDGET_LABELS.items()], plan_rows=range(1, 4),
                  owns_item=owns(current, item.agency_id),
                  back_url="/rekomendasi" if "/rekomendasi/" in back or not back else back)


@router.get("/rekomendasi/{recommendation_id}")
async def item_page(request: Request, recommendation_id: str, container: ContainerDep, current: WebActor,
                    ok: Annotated[str | None, Query(max_length=20)] = None):
    return await _item_page(request, container, current, recommendation_id, ok=ok)


@router.get("/rekomendasi/{recommendation_id}/bukti/{sha256}")
async def download(recommendation_id: str, sha256: str, session: SessionDep, container: ContainerDep,
                   current: WebActor, pratinjau: bool = False):
    found = None
    if len(sha256) == 64 and all(c in "0123456789abcdef" for c in sha256):
        found = await evidence_response(session, container, current, recommendation_id, sha256, inline=pratinjau)
    if found is None:
        raise PageError(404, "Tidak ditemukan", "Berkas bukti ini tidak ada atau bukan untuk Anda.")
    return found


async def _step(request: Request, container: Container, current: Actor, recommendation_id: str, command,
                ok: str):
    """Dispatch a command; on success back to the item (303), on refusal the item with the reason."""
    try:
        await dispatch(container, command)
    except ApiError as exc:
        return await _item_page(request, container, current, recommendation_id, error=exc.message,
                                status_code=exc.status)
    return RedirectResponse(f"/rekomendasi/{recommendation_id}?ok={ok}#isi", status_code=303)


@router.post("/rekomendasi/{recommendation_id}/tindakan", dependencies=[CsrfChecked])
async def record_action(request: Request, recommendation_id: str, container: ContainerDep, current: WebActor,
                        uraian: Text):
    if not uraian.strip():
        return await _item_page(request, container, current, recommendation_id, status_code=400,
                                error="Uraian tindak lanjut wajib diisi.")
    return await _step(request, container, current, recommendation_id, commands.RecordAction(
        actor=current, recommendation_id=recommendation_id, comment=uraian.strip()), "tindakan")


@router.post("/rekomendasi/{recommendation_id}/bukti", dependencies=[CsrfChecked])
async def upload(request: Request, recommendation_id: str, container: ContainerDep, current: WebActor,
                 berkas: Annotated[list[UploadFile], File()],
                 keterangan: Annotated[str, Form(max_length=1000)] = ""):
    files = [f for f in berkas if f.filename]
    if not files:
        return await _item_page(request, container, current, recommendation_id, status_code=400,
                                error="Pilih setidaknya satu berkas.")
    if len(files) > MAX_FILES_PER_FORM:
        return await _item_page(request, container, current, recommendation_id, status_code=400,
                                error=f"Paling banyak {MAX_FILES_PER_FORM} berkas sekaligus.")
    limit = container.settings.evidence_max_bytes
    for file in files:
        content = await file.read(limit + 1)
        try:
            await dispatch(container, commands.AttachEvidence(
                actor=current, recommendation_id=recommendation_id, filename=file.filename, content=content,
                description=keterangan.strip() or None))
        except ApiError as exc:
            return await _item_page(request, container, current, recommendation_id, status_code=exc.status,
                                    error=f"{file.filename}: {exc.message}")
    return RedirectResponse(f"/rekomendasi/{recommendation_id}?ok=bukti#bukti", status_code=303)


@router.post("/rekomendasi/{recommendation_id}/tautan", dependencies=[CsrfChecked])
async def add_link(request: Request, recommendation_id: str, container: ContainerDep, current: WebActor,
                   url: Annotated[str, Form(max_length=2000)], keterangan: Annotated[str, Form(max_length=1000)] = ""):
    try:
        checked = str(TypeAdapter(HttpUrl).validate_python(url.strip()))
    except ValidationError:
        return await _item_page(request, container, current, recommendation_id, status_code=400,
                                error="Alamat tautan tidak valid; tulis lengkap dengan https://")
    return await _step(request, container, current, recommendation_id, commands.AttachEvidence(
        actor=current, recommendation_id=recommendation_id, url=checked, description=keterangan.strip() or None),
        "tautan")


@router.post("/rekomendasi/{recommendation_id}/ajukan", dependencies=[CsrfChecked])
async def submit(request: Request, recommendation_id: str, container: ContainerDep, current: WebActor,
                 catatan: Text = ""):
    return await _step(request, container, current, recommendation_id, commands.SubmitFollowUp(
        actor=current, recommendation_id=recommendation_id, comment=catatan.strip() or None), "ajukan")


@router.post("/rekomendasi/{recommendation_id}/perpanjangan", dependencies=[CsrfChecked])
async def extension(request: Request, recommendation_id: str, container: ContainerDep, current: WebActor,
                    tenggat_baru: Annotated[str, Form(max_length=10)], alasan: Text):
    try:
        new_date = date.fromisoformat(tenggat_baru)
    except ValueError:
        new_date = None
    if new_date is None or not alasan.strip():
        return await _item_page(request, container, current, recommendation_id, status_code=400,
                                error="Isi tenggat baru (tanggal) dan alasannya.")
    return await _step(request, container, current, recommendation_id, commands.RequestExtension(
        actor=current, recommendation_id=recommendation_id, reason=alasan.strip(), new_due_date=new_date),
        "perpanjangan")


@router.post("/rekomendasi/{recommendation_id}/tidak-dapat", dependencies=[CsrfChecked])
async def not_actionable(request: Request, recommendation_id: str, container: ContainerDep, current: WebActor,
                         kode_alasan: Annotated[str, Form(max_length=40)], penjelasan: Text):
    if kode_alasan not in REASON or not penjelasan.strip():
        return await _item_page(request, container, current, recommendation_id, status_code=400,
                                error="Pilih alasan yang sah dan tulis penjelasannya.")
    return await _step(request, container, current, recommendation_id, commands.RequestNotActionable(
        actor=current, recommendation_id=recommendation_id, reason=penjelasan.strip(),
        reason_code=ReasonCode(kode_alasan)), "tidak-dapat")


@router.post("/rekomendasi/{recommendation_id}/verifikasi", dependencies=[CsrfChecked])
async def verify(request: Request, recommendation_id: str, container: ContainerDep, current: WebActor,
                 catatan: Text = ""):
    return await _step(request, container, current, recommendation_id, commands.VerifyFollowUp(
        actor=current, recommendation_id=recommendation_id, comment=catatan.strip() or None), "verifikasi")


@router.post("/rekomendasi/{recommendation_id}/minta-perbaikan", dependencies=[CsrfChecked])
async def request_changes(request: Request, recommendation_id: str, container: ContainerDep, current: WebActor,
                          catatan: Text = ""):
    if not catatan.strip():
        return await _item_page(request, container, current, recommendation_id, status_code=400,
                                error="Tulis catatan perbaikan untuk instansi.")
    return await _step(request, container, current, recommendation_id, commands.RequestChanges(
        actor=current, recommendation_id=recommendation_id, comment=catatan.strip()), "perbaikan")


MAX_PLAN_ROWS = 6


@router.post("/rekomendasi/{recommendation_id}/rencana", dependencies=[CsrfChecked])
async def submit_plan(request: Request, recommendation_id: str, container: ContainerDep, current: WebActor,
                      sumber_anggaran: Annotated[str, Form(max_length=40)]):
    """The plan form: up to six rows of (uraian, penanggung jawab, target); empty rows are skipped."""
    form = await request.form()
    steps, problems = [], []
    for n in range(1, MAX_PLAN_ROWS + 1):
        description = str(form.get(f"tahap_{n}_uraian") or "").strip()[:1000]
        responsible = str(form.get(f"tahap_{n}_pj") or "").strip()[:200]
        target = str(form.get(f"tahap_{n}_target") or "").strip()[:10]
        if not (description or responsible or target):
            continue
        try:
            steps.append((description, responsible, date.fromisoformat(target)))
        except ValueError:
            problems.append(f"tahap {n}: isi tanggal target")
    if sumber_anggaran not in {b.value for b in BudgetSource}:
        problems.append("pilih sumber anggaran")
    if problems or not steps:
        return await _item_page(request, container, current, recommendation_id, status_code=400,
                                error="; ".join(problems) or "Isi setidaknya satu tahap rencana aksi.")
    return await _step(request, container, current, recommendation_id, commands.SubmitActionPlan(
        actor=current, recommendation_id=recommendation_id, budget_source=BudgetSource(sumber_anggaran),
        milestones=tuple(steps)), "rencana")


@router.post("/rekomendasi/{recommendation_id}/rencana/{keputusan}", dependencies=[CsrfChecked])
async def decide_plan(request: Request, recommendation_id: str, keputusan: str, container: ContainerDep,
                      current: WebActor, catatan: Text = ""):
    if keputusan not in ("setujui", "kembalikan"):
        raise PageError(404, "Tidak ditemukan", "Halaman ini tidak ada.")
    return await _step(request, container, current, recommendation_id, commands.DecideActionPlan(
        actor=current, recommendation_id=recommendation_id, accept=keputusan == "setujui",
        comment=catatan.strip() or None), f"rencana-{keputusan}")


@router.post("/rekomendasi/{recommendation_id}/rencana/tahap/{seq}/selesai", dependencies=[CsrfChecked])
async def complete_milestone(request: Request, recommendation_id: str, seq: int, container: ContainerDep,
                             current: WebActor, catatan: Text = ""):
    return await _step(request, container, current, recommendation_id, commands.CompleteMilestone(
        actor=current, recommendation_id=recommendation_id, seq=seq, comment=catatan.strip() or None), "tahap")
