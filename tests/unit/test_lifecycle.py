"""The follow-up lifecycle enforces its own rules."""

from datetime import date, datetime, timezone

import pytest

from tindaklanjut.domain import events
from tindaklanjut.domain.lifecycle import (Action, Actor, BpkStatus, DomainError, FollowUpRequest,
                                           IllegalTransition, NotPermitted, RequestKind, RequestStatus, Role,
                                           Status, bpk_status)
from tindaklanjut.domain.model import Priority, Recommendation, Scope

AT = datetime(2025, 1, 10, 2, 0, tzinfo=timezone.utc)
AGENCY = Actor("dinsos-admin", Role.AGENCY, agency_id="15")
EVALUATOR = Actor("evaluator-panrb", Role.EVALUATOR)
SECRETARY = Actor("sekda-jambi", Role.SECRETARY, region="15")


def _recommendation(status=Status.OPEN) -> Recommendation:
    return Recommendation(
        id="r1", assessment_id="A", assessment_revision=1, framework="panrb-pekppp", cycle="2024", unit_id="15/dinsos",
        agency_id="15", scope=Scope.INDICATOR, aspect_code="V", indicator_code="V.4", sp_component=10, title="t",
        action="a", finding=None, priority=Priority.MEDIUM, due_date=date(2025, 2, 18),
        due_at=datetime(2025, 2, 18, 16, 59, tzinfo=timezone.utc), rule_id="x", issued_at=AT, status=status)


def test_happy_path_records_an_audit_event_for_every_step():
    rec = _recommendation()
    rec.change(Action.RECORD_ACTION, actor=AGENCY, at=AT, comment="SOP disusun")
    rec.submit(actor=AGENCY, at=AT, evidence_count=1, comment="selesai")
    rec.change(Action.VERIFY, actor=EVALUATOR, at=AT, comment="sesuai")
    assert rec.status is Status.VERIFIED and rec.had_action
    changes = [(e.action, e.from_status, e.to_status, e.actor) for e in rec.events
               if isinstance(e, events.FollowUpChanged)]
    assert changes == [("action_recorded", "open", "in_progress", "dinsos-admin"),
                       ("submitted", "in_progress", "submitted", "dinsos-admin"),
                       ("verified", "submitted", "verified", "evaluator-panrb")]


def test_a_recommendation_cannot_be_verified_before_it_is_submitted():
    rec = _recommendation(Status.IN_PROGRESS)
    with pytest.raises(IllegalTransition, match=r"^tidak dapat memverifikasi: tindak lanjut sesuai pada rekomendasi "
                                                r"berstatus Dalam proses \(in_progress\)$"):
        rec.change(Action.VERIFY, actor=EVALUATOR, at=AT)
    assert rec.status is Status.IN_PROGRESS and rec.events == []


def test_submission_needs_evidence_and_changes_need_a_comment():
    rec = _recommendation(Status.IN_PROGRESS)
    with pytest.raises(DomainError, match="bukti dukung"):
        rec.submit(actor=AGENCY, at=AT, evidence_count=0)
    rec.submit(actor=AGENCY, at=AT, evidence_count=2)
    with pytest.raises(DomainError, match="komentar"):
        rec.change(Action.REQUEST_CHANGES, actor=EVALUATOR, at=AT, comment="  ")
    rec.change(Action.REQUEST_CHANGES, actor=EVALUATOR, at=AT, comment="foto kurang jelas")
    assert rec.status is Status.CHANGES_REQUESTED
    rec.submit(actor=AGENCY, at=AT, evidence_count=3)
    assert rec.status is Status.SUBMITTED


@pytest.mark.parametrize(("actor", "action"), [(AGENCY, Action.VERIFY), (EVALUATOR, Action.RECORD_ACTION),
                                               (SECRETARY, Action.RECORD_ACTION), (SECRETARY, Action.VERIFY)])
def test_roles_only_do_their_own_actions(actor, action):
    rec = _recommendation(Status.SUBMITTED if action is Action.VERIFY else Status.OPEN)
    with pytest.raises(NotPermitted):
        rec.change(action, actor=actor, at=AT, comment="x")


@pytest.mark.parametrize("status", [Status.VERIFIED, Status.NOT_ACTIONABLE, Status.SUPERSEDED, Status.LAPSED])
def test_closed_items_accept_no_more_work(status):
    with pytest.raises(IllegalTransition):
        _recommendation(status).change(Action.RECORD_ACTION, actor=AGENCY, at=AT, comment="x")


def test_the_requester_never_decides_their_own_request():
    request = FollowUpRequest(id="q", recommendation_id="r1", kind=RequestKind.EXTENSION, requested_by="ana",
                              requested_at=AT, reason="anggaran belum cair", new_due_date=date(2025, 3, 31))
    with pytest.raises(NotPermitted):
        request.decide(actor=Actor("ana", Role.EVALUATOR), approve=True, at=AT, comment=None)
    with pytest.raises(NotPermitted):
        request.decide(actor=AGENCY, approve=True, at=AT, comment=None)
    request.decide(actor=EVALUATOR, approve=False, at=AT, comment="tidak cukup alasan")
    assert request.status is RequestStatus.REJECTED
    with pytest.raises(IllegalTransition):
        request.decide(actor=EVALUATOR, approve=True, at=AT, comment=None)


def test_an_approved_extension_moves_the_deadline_and_survives_a_revision():
    rec = _recommendation()
    rec.extend(actor=EVALUATOR, at=AT, due_date=date(2025, 3, 31),
               due_at=datetime(2025, 3, 31, 16, 59, tzinfo=timezone.utc), comment="ok", request_id="q")
    assert rec.due_date == date(2025, 3, 31) and rec.status is Status.OPEN
    newer = _recommendation()
    newer.title = "judul baru"
    rec.revise(newer)
    assert rec.due_date == date(2025, 3, 31) and rec.title == "judul baru"


@pytest.mark.parametrize(("status", "had_action", "expected"), [
    (Status.VERIFIED, True, BpkStatus.SESUAI), (Status.NOT_ACTIONABLE, False, BpkStatus.TIDAK_DAPAT_DITINDAKLANJUTI),
    (Status.IN_PROGRESS, True, BpkStatus.BELUM_SESUAI), (Status.SUBMITTED, True, BpkStatus.BELUM_SESUAI),
    (Status.OPEN, False, BpkStatus.BELUM_DITINDAKLANJUTI), (Status.LAPSED, False, BpkStatus.BELUM_DITINDAKLANJUTI),
    (Status.LAPSED, True, BpkStatus.BELUM_SESUAI), (Status.SUPERSEDED, False, None)])
def test_every_status_maps_to_the_bpk_vocabulary(status, had_action, expected):
    assert bpk_status(status, had_action) is expected
