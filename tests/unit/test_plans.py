"""Rencana aksi: a saran whose work needs a budget first gets a plan, checked,
accepted or returned; its deadline then follows the milestones."""

from datetime import date, datetime, timezone

import pytest

from tindaklanjut.domain.lifecycle import Actor, DomainError, IllegalTransition, NotPermitted, Role, Status
from tindaklanjut.domain.plans import ActionPlan, BudgetSource, PlanStatus, plan_due_date
from tindaklanjut.service_layer import commands

from tests.unit.test_command_handlers import KOTA, ORI, PROV, ingested_harness

NOW = datetime(2025, 1, 6, 2, 0, tzinfo=timezone.utc)
STEPS = (("Susun DED jalur landai dan toilet disabilitas", "Kasubag Umum", date(2025, 2, 28)),
         ("Anggarkan di APBD-P 2025", "Sekretaris Dinas", date(2025, 4, 30)),
         ("Bangun dan serah terima", "PPK Dinas", date(2025, 6, 20)))


@pytest.mark.parametrize("issued, due", [
    (date(2024, 12, 3), date(2025, 1, 13)),      # 2 Jan falls in the closing weeks: after 10 Jan, a Monday
    (date(2024, 11, 15), date(2025, 1, 13)),     # 15 Dec is the first closing day
    (date(2024, 11, 14), date(2024, 12, 16)),    # 14 Dec (a Saturday) is not: the next working day, 16 Dec
    (date(2024, 12, 20), date(2025, 1, 20)),     # 19 Jan is a Sunday
    (date(2025, 3, 3), date(2025, 4, 8)),       # 2 April falls in the Idul Fitri cuti bersama (2-7 April)
])
def test_a_plan_is_due_thirty_days_on_never_in_the_year_end_closing_weeks(issued, due):
    assert plan_due_date(issued) == due


@pytest.fixture
async def h(examples):
    return await ingested_harness(examples)


def draft(steps=STEPS, today=date(2025, 1, 6), last_day=date(2025, 6, 30)):
    return ActionPlan.draft(budget_source=BudgetSource.APBD_PERUBAHAN, milestones=list(steps), submitted_by="opd",
                            submitted_at=NOW, today=today, last_day=last_day)


@pytest.mark.parametrize("steps, message", [
    ((), "1 sampai 12"),
    (STEPS * 5, "1 sampai 12"),
    ((("", "Kasubag", date(2025, 3, 1)),), "wajib diisi"),
    ((("Langkah", " ", date(2025, 3, 1)),), "wajib diisi"),
    ((("Langkah", "Kasubag", date(2025, 1, 5)),), "sudah lewat"),
    ((STEPS[1], STEPS[0]), "berurutan"),
    ((("Langkah", "Kasubag", date(2025, 7, 1)),), "akhir masa tindak lanjut"),
    ((("x" * 1001, "Kasubag", date(2025, 3, 1)),), "paling panjang"),
])
def test_a_plan_is_checked_as_it_is_written(steps, message):
    with pytest.raises(DomainError, match=message):
        draft(steps)


def test_a_plan_round_trips_through_its_stored_form():
    plan = draft()
    plan.milestones[0].done_at, plan.milestones[0].done_by = NOW, "opd"
    import json
    again = ActionPlan.from_dict(json.loads(json.dumps(plan.as_dict(), default=str)))
    assert again == plan and again.next_open.seq == 2 and again.deadline == date(2025, 4, 30)


def planned(h, agency_id):
    return next(r for r in h.uow.recommendations.rows.values() if r.agency_id == agency_id and r.needs_plan)


async def test_the_plan_comes_first_then_the_deadline_follows_its_milestones(h):
    rec = planned(h, "15.71")
    assert rec.due_date == date(2025, 1, 13)
    inspektorat = Actor("inspektorat-kota", Role.VERIFIER, agency_id="15.71")
    await h.handle(commands.AttachEvidence(actor=KOTA, recommendation_id=rec.id, filename="foto.pdf",
                                           content=b"%PDF-1.4"))
    with pytest.raises(DomainError, match="rencana aksi"):
        await h.handle(commands.SubmitFollowUp(actor=KOTA, recommendation_id=rec.id))
    with pytest.raises(NotPermitted):
        await h.handle(commands.SubmitActionPlan(actor=ORI, recommendation_id=rec.id,
                                                 budget_source=BudgetSource.APBD_PERUBAHAN, milestones=STEPS))
    await h.handle(commands.SubmitActionPlan(actor=KOTA, recommendation_id=rec.id,
                                             budget_source=BudgetSource.APBD_PERUBAHAN, milestones=STEPS))
    rec = h.uow.recommendations.rows[rec.id]
    assert rec.plan.status is PlanStatus.SUBMITTED and rec.status is Status.IN_PROGRESS
    assert rec.due_date == date(2025, 1, 13)                       # unchanged until accepted
    with pytest.raises(DomainError, match="catatan"):
        await h.handle(commands.DecideActionPlan(actor=inspektorat, recommendation_id=rec.id, accept=False))
    await h.handle(commands.DecideActionPlan(actor=inspektorat, recommendation_id=rec.id, accept=False,
                                             comment="Rinci anggaran per tahap"))
    assert h.uow.recommendations.rows[rec.id].plan.status is PlanStatus.RETURNED
    await h.handle(commands.SubmitActionPlan(actor=KOTA, recommendation_id=rec.id,
                                             budget_source=BudgetSource.APBD_BERIKUTNYA, milestones=STEPS))
    resubmitted = h.uow.recommendations.rows[rec.id].plan
    assert resubmitted.status is PlanStatus.SUBMITTED and len(resubmitted.history) == 1
    assert resubmitted.history[0]["decision_comment"] == "Rinci anggaran per tahap"
    await h.handle(commands.DecideActionPlan(actor=ORI, recommendation_id=rec.id, accept=True, comment="sesuai"))
    rec = h.uow.recommendations.rows[rec.id]
    assert rec.plan_accepted and (rec.due_date, rec.due_at.isoformat()) == (date(2025, 2, 28),
                                                                            "2025-02-28T23:59:00+07:00")
    with pytest.raises(IllegalTransition):
        await h.handle(commands.DecideActionPlan(actor=ORI, recommendation_id=rec.id, accept=True))
    with pytest.raises(IllegalTransition):
        await h.handle(commands.SubmitActionPlan(actor=KOTA, recommendation_id=rec.id,
                                                 budget_source=BudgetSource.DAK, milestones=STEPS))
    await h.handle(commands.CompleteMilestone(actor=KOTA, recommendation_id=rec.id, seq=1, comment="DED selesai"))
    assert h.uow.recommendations.rows[rec.id].due_date == date(2025, 4, 30)
    with pytest.raises(IllegalTransition, match="sudah"):
        await h.handle(commands.CompleteMilestone(actor=KOTA, recommendation_id=rec.id, seq=1))
    with pytest.raises(DomainError, match="tidak ada"):
        await h.handle(commands.CompleteMilestone(actor=KOTA, recommendation_id=rec.id, seq=9))
    await h.handle(commands.CompleteMilestone(actor=KOTA, recommendation_id=rec.id, seq=2))
    await h.handle(commands.CompleteMilestone(actor=KOTA, recommendation_id=rec.id, seq=3))
    assert h.uow.recommendations.rows[rec.id].due_date == date(2025, 6, 20)      # the last milestone
    await h.handle(commands.SubmitFollowUp(actor=KOTA, recommendation_id=rec.id))
    assert h.status(rec.id) is Status.SUBMITTED
    assert [a for a, _ in h.audit(rec.id)] == [
        "evidence_added", "plan_submitted", "plan_returned", "plan_submitted", "plan_accepted", "milestone_done",
        "milestone_done", "milestone_done", "submitted"]


async def test_another_agency_cannot_plan_and_an_item_without_the_flag_needs_no_plan(h):
    from tindaklanjut.service_layer.followup import NotFound

    rec = planned(h, "15.71")
    with pytest.raises(NotFound):
        await h.handle(commands.SubmitActionPlan(actor=PROV, recommendation_id=rec.id,
                                                 budget_source=BudgetSource.DAK, milestones=STEPS))
    plain = next(r for r in h.uow.recommendations.rows.values() if r.agency_id == "15.71" and not r.needs_plan)
    with pytest.raises(DomainError, match="tidak memerlukan"):
        await h.handle(commands.SubmitActionPlan(actor=KOTA, recommendation_id=plain.id,
                                                 budget_source=BudgetSource.DAK, milestones=STEPS))
    with pytest.raises(DomainError, match="akhir masa tindak lanjut"):
        await h.handle(commands.SubmitActionPlan(actor=KOTA, recommendation_id=rec.id,
                                                 budget_source=BudgetSource.DAK,
                                                 milestones=(("Bangun", "PPK", date(2025, 7, 15)),)))
