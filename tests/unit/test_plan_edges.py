"""The rencana aksi at its edges: exactly twelve milestones, the longest texts allowed, a target
today or on the window's last day; a decided plan stored and read back unchanged; the year-end
closing weeks."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest

from tindaklanjut.domain.lifecycle import DomainError
from tindaklanjut.domain.plans import (MAX_MILESTONES, PLAN_DAYS, YEAR_END_UNTIL, ActionPlan, BudgetSource,
                                       PlanStatus, plan_due_date)

TODAY = date(2025, 3, 3)
LAST_DAY = date(2025, 12, 31)
AT = datetime(2025, 3, 3, 3, 0, tzinfo=timezone.utc)


def draft(steps, **overrides):
    options = dict(budget_source=BudgetSource.APBD_PERUBAHAN, milestones=steps, submitted_by="opd",
                   submitted_at=AT, today=TODAY, last_day=LAST_DAY) | overrides
    return ActionPlan.draft(**options)


def test_twelve_milestones_numbered_from_one_targets_today_and_on_the_last_day():
    steps = [(f"tahap {n}", "Kabid", TODAY if n == 1 else LAST_DAY) for n in range(1, MAX_MILESTONES + 1)]
    plan = draft(steps)
    assert [m.seq for m in plan.milestones] == list(range(1, MAX_MILESTONES + 1))
    assert (plan.milestones[0].description, plan.milestones[0].responsible) == ("tahap 1", "Kabid")
    assert (plan.submitted_by, plan.submitted_at, plan.status) == ("opd", AT, PlanStatus.SUBMITTED)
    with pytest.raises(DomainError, match="1 sampai 12 tahapan"):
        draft(steps + [("tahap 13", "Kabid", LAST_DAY)])


@pytest.mark.parametrize("description, responsible, allowed", [
    ("u" * 1000, "p" * 200, True), ("u" * 1001, "p", False), ("u", "p" * 201, False)])
def test_the_longest_texts_allowed(description, responsible, allowed):
    steps = [(description, responsible, TODAY)]
    if allowed:
        assert draft(steps).milestones[0].description == description
    else:
        with pytest.raises(DomainError, match="^tahap 1: uraian paling panjang 1000"):
            draft(steps)


def test_order_past_targets_and_the_window_are_refused_with_the_step_named():
    with pytest.raises(DomainError, match="^tahapan harus berurutan menurut tanggal target$"):
        draft([("a", "p", date(2025, 5, 1)), ("b", "p", date(2025, 4, 1))])
    with pytest.raises(DomainError, match="^tahap 2: target 2025-03-02 sudah lewat$"):
        draft([("a", "p", TODAY), ("b", "p", TODAY - timedelta(days=1))])
    with pytest.raises(DomainError, match=r"melewati akhir masa tindak lanjut \(2025-12-31\)"):
        draft([("a", "p", LAST_DAY + timedelta(days=1))])


def test_a_decided_plan_is_read_back_unchanged_from_json():
    plan = draft([("Anggaran di APBD-P", "Sekretaris", date(2025, 9, 1)), ("Pengadaan", "PPK", date(2025, 11, 1))])
    plan.milestones[0].done_at, plan.milestones[0].done_by = AT, "opd"
    plan.status, plan.decided_by, plan.decided_at, plan.decision_comment = (
        PlanStatus.ACCEPTED, "evaluator", AT + timedelta(days=2), "disetujui")
    plan.history = [{"status": "returned", "decision_comment": "perjelas tahap 2"}]
    stored = json.loads(json.dumps(plan.as_dict(), default=str))       # as the repository stores it
    assert ActionPlan.from_dict(stored) == plan


def test_an_older_stored_plan_without_a_decision_reads_as_submitted():
    stored = {"budget_source": "apbd_perubahan", "submitted_by": "opd", "submitted_at": AT.isoformat(),
              "milestones": [{"seq": 1, "description": "a", "responsible": "p", "target_date": "2025-09-01"}]}
    plan = ActionPlan.from_dict(stored)
    assert (plan.status, plan.decided_by, plan.decided_at, plan.decision_comment, plan.history) == \
        (PlanStatus.SUBMITTED, None, None, None, [])
    assert plan.milestones[0].target_date == date(2025, 9, 1)


@pytest.mark.parametrize("due_without_closing, due", [
    (date(2025, 6, 4), date(2025, 6, 4)),      # a working day, far from the year end
    (date(2025, 12, 11), date(2025, 12, 11)),  # a working day just before the closing weeks
    (date(2026, 12, 15), date(2027, 1, 11)),   # the closing weeks begin: the first day after them
    (date(2027, 1, 10), date(2027, 1, 11)),    # 10 January is still closed
    (date(2027, 1, 11), date(2027, 1, 11)),
])
def test_a_plan_is_never_due_in_the_year_end_closing_weeks(due_without_closing, due):
    assert YEAR_END_UNTIL == (1, 10)
    assert plan_due_date(due_without_closing - timedelta(days=PLAN_DAYS)) == due
