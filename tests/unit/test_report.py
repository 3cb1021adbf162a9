"""The cycle report's arithmetic, on hand-computed examples."""

from dataclasses import asdict
from datetime import date, datetime, timedelta, timezone

import pytest

from tindaklanjut.domain.lifecycle import Status
from tindaklanjut.domain.report import ReportItem, age_bucket, build_report, compare_scores, days_overdue, restore
from tindaklanjut.events.cycle import CycleReport as WireReport

UTC = timezone.utc
ISSUED = datetime(2025, 1, 1, 0, 0, tzinfo=UTC)
CLOSE = datetime(2025, 7, 1, 3, 0, tzinfo=UTC)          # 10:00 WIB, 1 July


def item(agency: str, status: Status, *, due: date = date(2025, 3, 1), had_action: bool = False,
         verified_after: int | None = None, change: float | None = None, region: str | None = None) -> ReportItem:
    region = region or agency
    return ReportItem(agency_id=agency, agency_name=f"Instansi {agency}", agency_region=region, unit_region=region,
                      status=status, had_action=had_action, issued_at=ISSUED, due_date=due,
                      due_at=datetime(due.year, due.month, due.day, 16, 59, tzinfo=UTC),   # 23:59 WIB
                      verified_at=ISSUED + timedelta(days=verified_after) if verified_after is not None else None,
                      score_change=change)


ITEMS = [
    # Pemprov (region 15): 2 verified after 10 and 20 days, 1 not actionable, 1 open 11 days overdue, 1 superseded
    item("15", Status.VERIFIED, had_action=True, verified_after=10, change=0.4),
    item("15", Status.VERIFIED, had_action=True, verified_after=20, change=0.2),
    item("15", Status.NOT_ACTIONABLE),
    item("15", Status.OPEN, due=date(2025, 6, 20), change=0.0),
    item("15", Status.SUPERSEDED, change=0.9),
    # Pemkot (region 15.71): 92, 32 days overdue, one submitted, one not yet due, one verified after 30 days
    item("15.71", Status.IN_PROGRESS, due=date(2025, 3, 31), had_action=True, change=-0.2),
    item("15.71", Status.SUBMITTED, due=date(2025, 5, 1), had_action=True),
    item("15.71", Status.CHANGES_REQUESTED, due=date(2025, 5, 30), had_action=True),
    item("15.71", Status.OPEN, due=date(2025, 8, 1)),
    item("15.71", Status.VERIFIED, had_action=True, verified_after=30),
    # Aceh (region 11.01): one item 72 days overdue
    item("11.01", Status.OPEN, due=date(2025, 4, 20)),
]


def test_closing_counts_per_agency_with_rates_bpk_mean_days_and_overdue_buckets():
    report = build_report(ITEMS, framework="panrb-pekppp", cycle="2024", as_of=CLOSE, closing=True,
                          closed_by="evaluator")
    agencies = {a.agency_id: a for a in report.agencies}
    assert [a.agency_id for a in report.agencies] == ["11.01", "15", "15.71"]

    prov = agencies["15"]
    assert (prov.total, prov.superseded, prov.counted, prov.verified, prov.not_actionable, prov.lapsed,
            prov.open) == (5, 1, 4, 2, 1, 1, 0)
    assert (prov.completion_rate, prov.resolution_rate, prov.mean_days_to_verification) == (0.5, 0.75, 15.0)
    assert prov.bpk == {"sesuai": 2, "belum_sesuai": 0, "belum_ditindaklanjuti": 1,
                        "tidak_dapat_ditindaklanjuti": 1}
    assert prov.overdue == {"days_1_30": 1, "days_31_60": 0, "days_61_90": 0, "days_over_90": 0}

    kota = agencies["15.71"]
    assert (kota.counted, kota.verified, kota.lapsed, kota.owed, kota.awaiting_verification) == (5, 1, 4, 3, 1)
    assert (kota.completion_rate, kota.resolution_rate, kota.mean_days_to_verification) == (0.2, 0.2, 30.0)
    assert kota.bpk == {"sesuai": 1, "belum_sesuai": 3, "belum_ditindaklanjuti": 1,
                        "tidak_dapat_ditindaklanjuti": 0}
    assert kota.overdue == {"days_1_30": 0, "days_31_60": 1, "days_61_90": 0, "days_over_90": 1}

    aceh = agencies["11.01"]
    assert (aceh.counted, aceh.lapsed, aceh.completion_rate, aceh.mean_days_to_verification) == (1, 1, 0.0, None)
    assert aceh.overdue["days_61_90"] == 1

    t = report.totals
    assert (t.total, t.superseded, t.counted, t.verified, t.not_actionable, t.lapsed, t.owed,
            t.awaiting_verification) == (11, 1, 10, 3, 1, 6, 5, 1)
    assert (t.completion_rate, t.resolution_rate, t.mean_days_to_verification) == (0.3, 0.4, 20.0)
    assert [(b.status, b.count, b.share) for b in report.bpk] == [
        ("sesuai", 3, 0.3), ("belum_sesuai", 3, 0.3), ("belum_ditindaklanjuti", 3, 0.3),
        ("tidak_dapat_ditindaklanjuti", 1, 0.1)]
    assert [(b.bucket, b.count) for b in report.overdue] == [("days_1_30", 1), ("days_31_60", 1), ("days_61_90", 1),
                                                            ("days_over_90", 1)]


def test_regions_by_agency_region_and_by_province():
    report = build_report(ITEMS, framework="panrb-pekppp", cycle="2024", as_of=CLOSE, closing=True)
    assert [(r.region_code, r.counted, r.verified) for r in report.regions] == [
        ("11.01", 1, 0), ("15", 4, 2), ("15.71", 5, 1)]
    assert [(r.region_code, r.counted, r.verified, r.completion_rate, r.resolution_rate)
            for r in report.provinces] == [("11", 1, 0, 0.0, 0.0), ("15", 9, 3, 0.3333, 0.4444)]
    assert report.provinces[1].mean_days_to_verification == 20.0      # (10 + 20 + 30) / 3


def test_score_change_of_verified_against_lapsed():
    comparison = build_report(ITEMS, framework="f", cycle="2024", as_of=CLOSE, closing=True).score_change
    # verified: +0.4, +0.2 -> 0.3; lapsed: 0.0 (open, lapses now), -0.2 (in progress, lapses now) -> -0.1
    assert (comparison.verified.n, comparison.verified.mean) == (2, 0.3)
    assert (comparison.lapsed.n, comparison.lapsed.mean) == (2, -0.1)
    assert comparison.difference == 0.4
    # superseded (+0.9) and items without a next-cycle score take no part
    empty = compare_scores([item("15", Status.VERIFIED, change=None)], as_of=CLOSE, closing=True)
    assert (empty.verified.n, empty.verified.mean, empty.difference) == (0, None, None)


def test_a_provisional_report_keeps_open_items_open():
    report = build_report(ITEMS, framework="f", cycle="2024", as_of=CLOSE, closing=False)
    assert (report.status, report.totals.lapsed, report.totals.open, report.totals.completion_rate) == (
        "provisional", 0, 6, 0.3)
    assert report.totals.overdue == {"days_1_30": 1, "days_31_60": 1, "days_61_90": 1, "days_over_90": 1}
    assert (report.score_change.lapsed.n, report.score_change.difference) == (0, None)
    # BPK counts do not depend on the close: open without action is "belum ditindaklanjuti" either way
    assert report.totals.bpk == build_report(ITEMS, framework="f", cycle="2024", as_of=CLOSE, closing=True).totals.bpk


def test_overdue_days_follow_the_units_local_date():
    due = date(2025, 6, 30)
    at = datetime(2025, 6, 30, 16, 30, tzinfo=UTC)          # 23:30 WIB, 00:30 WITA on 1 July
    wib = item("15", Status.OPEN, due=due)
    wita = ReportItem(**{**asdict(wib), "unit_region": "73",
                         "due_at": datetime(2025, 6, 30, 15, 59, tzinfo=UTC)})   # 23:59 WITA
    assert (days_overdue(wib, at), days_overdue(wita, at)) == (0, 1)
    assert [age_bucket(d) for d in (0, 1, 30, 31, 60, 61, 90, 91, 400)] == [
        None, "days_1_30", "days_1_30", "days_31_60", "days_31_60", "days_61_90", "days_61_90", "days_over_90",
        "days_over_90"]


def test_restoring_a_stored_report_for_one_region_sums_only_its_agencies():
    report = build_report(ITEMS, framework="panrb-pekppp", cycle="2024", as_of=CLOSE, closing=True,
                          closed_by="evaluator")
    stored = WireReport.model_validate(asdict(report)).model_dump(mode="json")
    again = restore(stored, score_change=report.score_change)
    assert asdict(again) == asdict(report)
    jambi = restore(stored, score_change=report.score_change, region="15")
    assert [a.agency_id for a in jambi.agencies] == ["15", "15.71"]
    assert (jambi.region, jambi.totals.counted, jambi.totals.verified, jambi.totals.completion_rate) == (
        "15", 9, 3, 0.3333)
    assert [p.region_code for p in jambi.provinces] == ["15"]
    assert restore(stored, score_change=report.score_change, region="15.7").agencies == []   # no prefix match


@pytest.mark.parametrize("closing", [True, False])
def test_the_domain_report_fits_the_wire_model_exactly(closing):
    report = build_report(ITEMS, framework="f", cycle="2024", as_of=CLOSE, closing=closing)
    wire = WireReport.model_validate(asdict(report))       # extra="forbid" on the wire model
    assert wire.model_dump(mode="json")["totals"]["completion_rate"] == 0.3
