"""A recommendation's own steps, read the way the audit trail and the person refused read them:
the event of each step with its comment and details, the reason of each refusal, and what a
corrected assessment may and may not change."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta, timezone

import pytest

from tindaklanjut.domain import events
from tindaklanjut.domain.lifecycle import Action, Actor, DomainError, IllegalTransition, NotPermitted, Role, Status
from tindaklanjut.domain.model import Priority, Recommendation, Scope, recommendation_id
from tindaklanjut.domain.plans import ActionPlan, BudgetSource

AT = datetime(2025, 1, 6, 2, 0, tzinfo=timezone.utc)
AGENCY = Actor(name="opd", role=Role.AGENCY, agency_id="15")
EVALUATOR = Actor(name="evaluator", role=Role.EVALUATOR)
STEPS = [("Susun DED", "Kasubag Umum", date(2025, 2, 28)), ("Anggarkan di APBD-P", "Sekretaris", date(2025, 4, 30))]


def saran(**overrides) -> Recommendation:
    fields = dict(id="rec-1", assessment_id="A-1", assessment_revision=1, framework="ombudsman-kepatuhan",
                  cycle="2024", unit_id="15/dinsos", agency_id="15", scope=Scope.INDICATOR, aspect_code="sarana",
                  indicator_code="III.4", sp_component=10, title="Sediakan sarana disabilitas", action="Bangun ramp",
                  finding=None, priority=Priority.HIGH, due_date=date(2025, 2, 18),
                  due_at=datetime(2025, 2, 18, 16, 59, tzinfo=timezone.utc), rule_id="indicator.below_half",
                  issued_at=AT, template="sp.10", catalogue_version="2026.2")
    return Recommendation(**(fields | overrides))


def plan() -> ActionPlan:
    return ActionPlan.draft(budget_source=BudgetSource.APBD_PERUBAHAN, milestones=STEPS, submitted_by="opd",
                            submitted_at=AT, today=date(2025, 1, 6), last_day=date(2025, 6, 30))


def due_on(day: date) -> tuple[date, datetime]:
    return day, datetime(day.year, day.month, day.day, 16, 59, tzinfo=timezone.utc)


def test_issuing_records_the_event_with_the_item_and_its_time():
    issued = Recommendation.issue(**dataclasses.asdict(saran()) | {"events": []})
    assert issued.events == [events.RecommendationIssued(recommendation_id="rec-1", occurred_at=AT)]
    assert recommendation_id("A-1", Scope.UNIT, None) != recommendation_id("A-1", Scope.UNIT, "XXXX")
    assert recommendation_id("A-1", Scope.UNIT, None) == recommendation_id("A-1", Scope.UNIT, "")


def test_every_refusal_says_why():
    item = saran()
    with pytest.raises(NotPermitted, match="^peran Evaluator tidak berwenang mencatat tindak lanjut$"):
        item.change(Action.RECORD_ACTION, actor=EVALUATOR, at=AT)
    with pytest.raises(DomainError, match="^permintaan perbaikan wajib disertai komentar$"):
        item.status = Status.SUBMITTED
        item.change(Action.REQUEST_CHANGES, actor=EVALUATOR, at=AT, comment="  ")
    item.status = Status.IN_PROGRESS
    with pytest.raises(DomainError, match="^unggah bukti dukung sebelum mengajukan penyelesaian$"):
        item.submit(actor=AGENCY, at=AT, evidence_count=0)
    with pytest.raises(DomainError, match="^saran ini tidak memerlukan rencana aksi$"):
        item.submit_plan(plan(), actor=AGENCY, at=AT)
    needs = saran(needs_plan=True)
    with pytest.raises(DomainError, match="^ajukan rencana aksi dan tunggu persetujuannya sebelum mengajukan"):
        needs.submit(actor=AGENCY, at=AT, evidence_count=1)
    with pytest.raises(IllegalTransition, match="^tidak ada rencana aksi yang menunggu keputusan$"):
        needs.decide_plan(accept=True, actor=EVALUATOR, at=AT, comment=None, due_on=due_on)
    with pytest.raises(IllegalTransition, match="^rencana aksi belum disetujui$"):
        needs.complete_milestone(1, actor=AGENCY, at=AT, comment=None, due_on=due_on)


def test_a_submission_keeps_its_comment():
    item = saran(status=Status.IN_PROGRESS)
    item.submit(actor=AGENCY, at=AT, evidence_count=1, comment="selesai, lihat bukti")
    assert item.events[-1].comment == "selesai, lihat bukti" and item.status is Status.SUBMITTED


def test_the_plan_steps_leave_their_details_in_the_audit_trail():
    item = saran(needs_plan=True)
    item.submit_plan(plan(), actor=AGENCY, at=AT)
    submitted = item.events[-1]
    assert (submitted.action, submitted.details) == (
        "plan_submitted", {"budget_source": "apbd_perubahan", "milestones": 2, "last_target": "2025-04-30"})
    with pytest.raises(DomainError, match="^pengembalian rencana aksi wajib disertai catatan$"):
        item.decide_plan(accept=False, actor=EVALUATOR, at=AT, comment=" ", due_on=due_on)
    item.decide_plan(accept=False, actor=EVALUATOR, at=AT, comment="perjelas tahap 2", due_on=due_on)
    assert (item.events[-1].action, item.events[-1].comment) == ("plan_returned", "perjelas tahap 2")

    item.submit_plan(plan(), actor=AGENCY, at=AT + timedelta(days=1))
    assert [entry["decision_comment"] for entry in item.plan.history] == ["perjelas tahap 2"]
    assert item.plan.history[0]["history"] == []            # earlier versions are not nested in each other
    item.decide_plan(accept=True, actor=EVALUATOR, at=AT, comment="disetujui", due_on=due_on)
    assert (item.events[-1].action, item.events[-1].comment, item.due_date) == (
        "plan_accepted", "disetujui", date(2025, 2, 28))
    with pytest.raises(IllegalTransition, match="^rencana aksi sudah disetujui$"):
        item.submit_plan(plan(), actor=AGENCY, at=AT)

    item.complete_milestone(1, actor=AGENCY, at=AT, comment="DED selesai", due_on=due_on)
    done = item.events[-1]
    assert (done.action, done.comment, done.details) == (
        "milestone_done", "DED selesai", {"milestone": 1, "description": "Susun DED"})
    assert item.due_date == date(2025, 4, 30)


def test_a_correction_keeps_an_agreed_deadline_but_takes_everything_else():
    item = saran(extended=True, due_date=date(2025, 3, 31), due_at=due_on(date(2025, 3, 31))[1])
    newer = saran(assessment_revision=2, title="Judul baru", due_date=date(2025, 2, 20),
                  due_at=due_on(date(2025, 2, 20))[1], rule_id="indicator.below_third", catalogue_version="2026.3",
                  template="indicator.ombudsman.sarana")
    item.revise(newer)
    assert (item.due_date, item.due_at) == (date(2025, 3, 31), due_on(date(2025, 3, 31))[1])
    assert (item.assessment_revision, item.title, item.rule_id, item.catalogue_version, item.template) == (
        2, "Judul baru", "indicator.below_third", "2026.3", "indicator.ombudsman.sarana")
    plain = saran()
    plain.revise(newer)
    assert (plain.due_date, plain.due_at) == (newer.due_date, newer.due_at)
