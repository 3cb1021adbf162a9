"""Recommendations: read them, and the agency's and evaluator's follow-up steps."""

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Query, Response, UploadFile
from fastapi.responses import StreamingResponse

from tindaklanjut.api import models, queries
from tindaklanjut.api.downloads import evidence_response
from tindaklanjut.api.deps import AgencyActor, ContainerDep, CurrentActor, SessionDep, VerifierActor, dispatch
from tindaklanjut.api.errors import ERRORS, ApiError
from tindaklanjut.bootstrap import Container
from tindaklanjut.domain.lifecycle import Actor, Status
from tindaklanjut.service_layer import commands

router = APIRouter(prefix="/api/v1/recommendations", responses=ERRORS)


async def detail(container: Container, current: Actor, recommendation_id: str) -> models.RecommendationDetail:
    async with container.sessions() as session:
        found = await queries.get_recommendation(session, current, recommendation_id, container.clock())
    if found is None:
        raise ApiError(404, "not_found", "rekomendasi tidak ditemukan")
    return found


async def act(container: Container, current: Actor, command: commands.FollowUpCommand) -> models.RecommendationDetail:
    """Dispatch a follow-up step, then answer with the item as the actor now sees it."""
    await dispatch(container, command)
    return await detail(container, current, command.recommendation_id)


def evidence_out(version) -> models.EvidenceOut:
    return models.EvidenceOut(**{name: value for name, value in asdict(version).items()
                                 if name in models.EvidenceOut.model_fields})


@router.get("", response_model=list[models.RecommendationOut], tags=["rekomendasi"])
async def list_recommendations(
        session: SessionDep, container: ContainerDep, current: CurrentActor, response: Response,
        status: Status | None = None,
        unit: Annotated[str | None, Query(max_length=100)] = None,
        agency: Annotated[str | None, Query(max_length=100, description="satu instansi (pemda)")] = None,
        overdue: bool | None = None,
        q: Annotated[str | None, Query(max_length=100, description="cari di judul, saran, temuan, indikator, unit")]
        = None, limit: Annotated[int, Query(ge=1, le=1000)] = 200,
        offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0) -> list[models.RecommendationOut]:
    """One page (`limit`, `offset`; soonest deadline first). `X-Total-Count` gives how many match."""
    filters = dict(status=status.value if status else None, unit_id=unit, overdue=overdue, search=q, agency_id=agency)
    now = container.clock()
    found = await queries.list_recommendations(session, current, now, limit=limit, offset=offset, **filters)
    total = len(found) + offset if len(found) < limit and (found or offset == 0) else \
        await queries.count_recommendations(session, current, now, **filters)
    response.headers["X-Total-Count"] = str(total)
    return found


@router.get("/{recommendation_id}", response_model=models.RecommendationDetail, tags=["rekomendasi"],
            summary="Rekomendasi dengan linimasa (audit trail)")
async def get_recommendation(recommendation_id: str, container: ContainerDep,
                             current: CurrentActor) -> models.RecommendationDetail:
    return await detail(container, current, recommendation_id)


Sha256 = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="SHA-256 berkas (dari `evidence_versions`)")]


@router.get("/{recommendation_id}/evidence/{sha256}", tags=["rekomendasi"], summary="Unduh berkas bukti dukung",
            response_class=StreamingResponse, responses={200: {"content": {"application/octet-stream": {}}}})
async def download_evidence(recommendation_id: str, sha256: Sha256, session: SessionDep, container: ContainerDep,
                            current: CurrentActor, inline: bool = False) -> StreamingResponse:
    """The file, for everyone who may see the recommendation (404 for anyone else). A download by
    default; `?inline=true` shows a PDF or an image in the browser."""
    found = await evidence_response(session, container, current, recommendation_id, sha256, inline=inline)
    if found is None:
        raise ApiError(404, "not_found", "berkas bukti tidak ditemukan")
    return found


@router.post("/{recommendation_id}/actions", response_model=models.RecommendationDetail, tags=["instansi"],
             summary="Catat tindak lanjut")
async def record_action(recommendation_id: str, body: models.RequiredCommentIn, container: ContainerDep,
                        current: AgencyActor) -> models.RecommendationDetail:
    return await act(container, current, commands.RecordAction(
        actor=current, recommendation_id=recommendation_id, comment=body.comment))


@router.post("/{recommendation_id}/evidence", response_model=models.EvidenceOut, status_code=201,
             tags=["instansi"], summary="Unggah bukti dukung (berkas)")
async def upload_evidence(recommendation_id: str, container: ContainerDep, current: AgencyActor,
                          file: Annotated[UploadFile, File()],
                          description: Annotated[str | None, Form(max_length=1000)] = None) -> models.EvidenceOut:
    content = await file.read(container.settings.evidence_max_bytes + 1)
    version = await dispatch(container, commands.AttachEvidence(
        actor=current, recommendation_id=recommendation_id, filename=file.filename or "", content=content,
        description=description))
    return evidence_out(version)


@router.post("/{recommendation_id}/links", response_model=models.EvidenceOut, status_code=201, tags=["instansi"],
             summary="Tambahkan tautan bukti dukung")
async def add_link(recommendation_id: str, body: models.LinkIn, container: ContainerDep,
                   current: AgencyActor) -> models.EvidenceOut:
    version = await dispatch(container, commands.AttachEvidence(
        actor=current, recommendation_id=recommendation_id, url=str(body.url), description=body.description))
    return evidence_out(version)


@router.post("/{recommendation_id}/submit", response_model=models.RecommendationDetail, tags=["instansi"],
             summary="Ajukan penyelesaian untuk diverifikasi")
async def submit(recommendation_id: str, body: models.CommentIn, container: ContainerDep,
                 current: AgencyActor) -> models.RecommendationDetail:
    return await act(container, current, commands.SubmitFollowUp(
        actor=current, recommendation_id=recommendation_id, comment=body.comment))


@router.post("/{recommendation_id}/not-actionable", response_model=models.RequestOut, status_code=201,
             tags=["instansi"], summary="Mohon status tidak dapat ditindaklanjuti")
async def request_not_actionable(recommendation_id: str, body: models.NotActionableIn, container: ContainerDep,
                                 current: AgencyActor) -> models.RequestOut:
    request = await dispatch(container, commands.RequestNotActionable(
        actor=current, recommendation_id=recommendation_id, reason=body.explanation, reason_code=body.reason_code))
    return await queries.request_by_id(container, current, request.id)


@router.post("/{recommendation_id}/extension", response_model=models.RequestOut, status_code=201,
             tags=["instansi"], summary="Mohon perpanjangan tenggat")
async def request_extension(recommendation_id: str, body: models.ExtensionIn, container: ContainerDep,
                            current: AgencyActor) -> models.RequestOut:
    request = await dispatch(container, commands.RequestExtension(
        actor=current, recommendation_id=recommendation_id, reason=body.reason, new_due_date=body.new_due_date))
    return await queries.request_by_id(container, current, request.id)


@router.post("/{recommendation_id}/plan", response_model=models.RecommendationDetail, tags=["instansi"],
             summary="Ajukan rencana aksi (tahapan, penanggung jawab, target, sumber anggaran)")
async def submit_plan(recommendation_id: str, body: models.PlanIn, container: ContainerDep,
                      current: AgencyActor) -> models.RecommendationDetail:
    return await act(container, current, commands.SubmitActionPlan(
        actor=current, recommendation_id=recommendation_id, budget_source=body.budget_source,
        milestones=tuple((m.description, m.responsible, m.target_date) for m in body.milestones)))


@router.post("/{recommendation_id}/plan/{decision}", response_model=models.RecommendationDetail,
             tags=["evaluator"], summary="Setujui (`accept`) atau kembalikan (`return`, dengan catatan) rencana aksi")
async def decide_plan(recommendation_id: str, decision: Annotated[str, Path(pattern="^(accept|return)$")],
                      body: models.CommentIn, container: ContainerDep,
                      current: VerifierActor) -> models.RecommendationDetail:
    return await act(container, current, commands.DecideActionPlan(
        actor=current, recommendation_id=recommendation_id, accept=decision == "accept", comment=body.comment))


@router.post("/{recommendation_id}/plan/milestones/{seq}/done", response_model=models.RecommendationDetail,
             tags=["instansi"], summary="Tandai satu tahap rencana aksi selesai")
async def complete_milestone(recommendation_id: str, seq: Annotated[int, Path(ge=1, le=12)], body: models.CommentIn,
                             container: ContainerDep, current: AgencyActor) -> models.RecommendationDetail:
    return await act(container, current, commands.CompleteMilestone(
        actor=current, recommendation_id=recommendation_id, seq=seq, comment=body.comment))


@router.post("/{recommendation_id}/verify", response_model=models.RecommendationDetail, tags=["evaluator"],
             summary="Verifikasi: tindak lanjut sesuai")
async def verify(recommendation_id: str, body: models.CommentIn, container: ContainerDep,
                 current: VerifierActor) -> models.RecommendationDetail:
    return await act(container, current, commands.VerifyFollowUp(
        actor=current, recommendation_id=recommendation_id, comment=body.comment))


@router.post("/{recommendation_id}/request-changes", response_model=models.RecommendationDetail,
             tags=["evaluator"], summary="Kembalikan ke instansi dengan catatan perbaikan")
async def request_changes(recommendation_id: str, body: models.RequiredCommentIn, container: ContainerDep,
                          current: VerifierActor) -> models.RecommendationDetail:
    return await act(container, current, commands.RequestChanges(
        actor=current, recommendation_id=recommendation_id, comment=body.comment))
