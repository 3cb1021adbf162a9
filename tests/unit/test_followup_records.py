"""What the follow-up handlers write down, field by field: the evidence version, the request, and
the audit entry of each step with its comment and details (the audit trail is evidence in a BPK
review, so each field matters), on the in-memory fakes."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest

from tindaklanjut.domain.lifecycle import DomainError, IllegalTransition, ReasonCode, RequestKind, RequestStatus
from tindaklanjut.service_layer import commands
from tindaklanjut.service_layer.followup import NotFound

from tests.unit.test_command_handlers import KOTA, NOW, ORI, ingested_harness

PDF = b"%PDF-1.4 rekap pengaduan"


@pytest.fixture
async def h(examples):
    return await ingested_harness(examples)


def entries(h, rid):
    return [e for e in h.uow.audit.entries if e.recommendation_id == rid]


async def test_each_step_keeps_its_comment_and_evidence_details(h):
    rid = h.ids("15.71")[0]
    with pytest.raises(DomainError, match="^uraian tindak lanjut wajib diisi$"):
        await h.handle(commands.RecordAction(actor=KOTA, recommendation_id=rid, comment="  "))
    await h.handle(commands.RecordAction(actor=KOTA, recommendation_id=rid, comment="SOP disusun"))
    with pytest.raises(DomainError, match="^unggah berkas atau isi tautan$"):
        await h.handle(commands.AttachEvidence(actor=KOTA, recommendation_id=rid))
    version = await h.handle(commands.AttachEvidence(actor=KOTA, recommendation_id=rid, filename="rekap.pdf",
                                                     content=PDF, description="rekap Januari"))
    sha = hashlib.sha256(PDF).hexdigest()
    assert (version.recommendation_id, version.version, version.kind, version.filename, version.media_type,
            version.size, version.sha256, version.url, version.description, version.uploaded_by,
            version.uploaded_at) == (rid, 1, "file", "rekap.pdf", "application/pdf", len(PDF), sha, None,
                                     "rekap Januari", KOTA.name, NOW)
    link = await h.handle(commands.AttachEvidence(actor=KOTA, recommendation_id=rid, url="https://x.go.id/sk",
                                                  description="SK"))
    assert (link.kind, link.url, link.sha256, link.size, link.media_type) == ("link", "https://x.go.id/sk", None,
                                                                              None, None)
    await h.handle(commands.SubmitFollowUp(actor=KOTA, recommendation_id=rid, comment="mohon diperiksa"))
    await h.handle(commands.VerifyFollowUp(actor=ORI, recommendation_id=rid, comment="sesuai"))
    recorded, file, web, submitted, verified = entries(h, rid)
    assert (recorded.action, recorded.comment) == ("action_recorded", "SOP disusun")
    assert (file.comment, file.evidence, file.details) == (
        "rekap Januari", (sha,), {"version": 1, "kind": "file", "filename": "rekap.pdf", "url": None})
    assert (web.evidence, web.details) == ((), {"version": 2, "kind": "link", "filename": None,
                                                "url": "https://x.go.id/sk"})
    assert (submitted.comment, verified.comment, verified.actor) == ("mohon diperiksa", "sesuai", ORI.name)


async def test_a_request_records_who_when_why_and_the_decision_names_it(h):
    rid = h.ids("15.71")[0]
    with pytest.raises(DomainError, match="^alasan wajib diisi$"):
        await h.handle(commands.RequestNotActionable(actor=KOTA, recommendation_id=rid, reason=" ",
                                                     reason_code=ReasonCode.FORCE_MAJEURE))
    request = await h.handle(commands.RequestNotActionable(actor=KOTA, recommendation_id=rid,
                                                           reason="gedung rusak akibat banjir",
                                                           reason_code=ReasonCode.FORCE_MAJEURE))
    assert (request.kind, request.requested_by, request.requested_at, request.reason, request.reason_code,
            request.new_due_date, request.status) == (RequestKind.NOT_ACTIONABLE, KOTA.name, NOW,
                                                      "gedung rusak akibat banjir", ReasonCode.FORCE_MAJEURE, None,
                                                      RequestStatus.PENDING)
    assert len(request.id) == 36 and request.id != "None"
    with pytest.raises(IllegalTransition, match="^masih ada permohonan yang belum diputuskan$"):
        await h.handle(commands.RequestNotActionable(actor=KOTA, recommendation_id=rid, reason="lagi",
                                                     reason_code=ReasonCode.FORCE_MAJEURE))
    asked = entries(h, rid)[-1]
    assert (asked.action, asked.comment, asked.details) == (
        "not_actionable_requested", "gedung rusak akibat banjir",
        {"request_id": request.id, "reason_code": "force_majeure", "new_due_date": None})
    decided = await h.handle(commands.DecideRequest(actor=ORI, request_id=request.id, approve=False,
                                                    comment="bukan keadaan kahar"))
    assert (decided.status, decided.decided_by, decided.decided_at, decided.decision_comment) == (
        RequestStatus.REJECTED, ORI.name, NOW, "bukan keadaan kahar")
    rejected = entries(h, rid)[-1]
    assert (rejected.action, rejected.comment, rejected.details) == (
        "not_actionable_rejected", "bukan keadaan kahar", {"request_id": request.id})
    with pytest.raises(NotFound):
        await h.handle(commands.DecideRequest(actor=ORI, request_id="tidak-ada", approve=True))


async def test_an_extension_needs_a_later_date_and_its_approval_moves_the_deadline(h):
    rid = h.ids("15.71")[0]
    due = h.uow.recommendations.rows[rid].due_date
    with pytest.raises(DomainError, match="^tanggal baru harus setelah tenggat saat ini$"):
        await h.handle(commands.RequestExtension(actor=KOTA, recommendation_id=rid, reason="APBD-P",
                                                 new_due_date=due))
    later = date(due.year, 12, 1)
    request = await h.handle(commands.RequestExtension(actor=KOTA, recommendation_id=rid, reason="APBD-P",
                                                       new_due_date=later))
    assert (request.kind, request.new_due_date, request.reason_code) == (RequestKind.EXTENSION, later, None)
    asked = entries(h, rid)[-1]
    assert (asked.action, asked.details) == ("extension_requested", {
        "request_id": request.id, "reason_code": None, "new_due_date": later.isoformat()})
    await h.handle(commands.DecideRequest(actor=ORI, request_id=request.id, approve=True, comment="disetujui"))
    approved = entries(h, rid)[-1]
    assert (approved.action, approved.comment, approved.details["request_id"], approved.details["due_date"]) == (
        "extension_approved", "disetujui", request.id, later.isoformat())
    assert h.uow.recommendations.rows[rid].due_date == later
