"""The three contract examples produce the expected recommendations."""

from datetime import date, datetime, timezone

import pytest

from tindaklanjut.domain.frameworks import load_frameworks
from tindaklanjut.domain.model import Assessment, Priority, recommendation_id, Scope
from tindaklanjut.domain.recommender import recommend
from tindaklanjut.events.assessment import AssessmentPublishedEvent

CATALOGUE = load_frameworks()
ISSUED = datetime(2024, 12, 21, tzinfo=timezone.utc)


def _recommend(document):
    event = AssessmentPublishedEvent.model_validate(document)
    data = event.data
    framework = CATALOGUE.get(data.framework)
    assessment = Assessment(
        assessment_id=data.assessment_id, revision=data.revision, framework=data.framework, cycle=data.cycle,
        unit_id=data.unit.id, agency_id=data.unit.agency.id, score=data.score, official_grade=data.grade,
        computed_grade=framework.scale_for(data.cycle).band_for(data.score).grade, published_at=data.published_at,
        follow_up_until=data.follow_up_until or framework.default_follow_up_until(data.cycle),
        source=event.source, event_id=event.id)
    return recommend(data, assessment, issued_at=ISSUED)


def test_disdukcapil_gets_four_high_priority_recommendations(examples):
    recs = _recommend(examples["ombudsman-2024-kota-jambi-disdukcapil"])
    assert [r.indicator_code for r in recs] == [
        "input.kompetensi.standar_pelayanan", "input.sarpras.kelompok_rentan",
        "proses.sp.jangka_waktu", "pengaduan.pengelola"]
    assert {r.priority for r in recs} == {Priority.HIGH}
    # 30 days after 3 Dec 2024 is 2 Jan 2025 (1 Jan is a holiday, 2 Jan a Thursday)
    assert {r.due_date for r in recs} == {date(2025, 1, 2)}
    first = recs[0]
    assert first.due_at.isoformat() == "2025-01-02T23:59:00+07:00"
    assert first.title == "Perbaikan indikator: Pengetahuan pelaksana tentang komponen standar pelayanan"
    assert "Dua dari empat pelaksana yang diwawancarai" in first.action
    assert first.finding.startswith("Dua dari empat pelaksana")
    assert first.sp_component == 8 and first.aspect_code == "input"
    assert first.unit_id == "15.71/disdukcapil" and first.agency_id == "15.71"


def test_dpmptsp_gets_one_recommendation_for_its_only_weak_indicator(examples):
    recs = _recommend(examples["ombudsman-2024-kota-jambi-dpmptsp"])
    assert [(r.indicator_code, r.priority) for r in recs] == [("pengaduan.tindak_lanjut", Priority.HIGH)]
    assert "Rekap tindak lanjut pengaduan triwulan III" in recs[0].action


def test_dinsos_gets_three_medium_priority_recommendations_due_in_60_days(examples):
    recs = _recommend(examples["pekppp-2024-prov-jambi-dinsos"])
    assert [r.indicator_code for r in recs] == ["I.8", "III.4", "V.4"]
    assert {r.priority for r in recs} == {Priority.MEDIUM}
    assert {r.due_date for r in recs} == {date(2025, 2, 18)}   # 20 Dec 2024 + 60 days


def test_indicator_without_finding_still_gets_a_concrete_action(examples):
    document = examples["pekppp-2024-prov-jambi-dinsos"]
    document["data"]["aspects"][5]["indicators"][0]["score"] = 1
    recs = _recommend(document)
    innovation = next(r for r in recs if r.indicator_code == "VI.1")
    assert innovation.finding is None
    assert "skor 1 dari 5" in innovation.action


def test_deadline_never_passes_the_follow_up_window(examples):
    document = examples["ombudsman-2024-kota-jambi-dpmptsp"]
    document["data"]["follow_up_until"] = "2024-12-20"   # a Friday
    recs = _recommend(document)
    assert recs[0].due_date == date(2024, 12, 20)


def test_ids_are_stable_for_the_same_weakness(examples):
    first = _recommend(examples["ombudsman-2024-kota-jambi-dpmptsp"])
    again = _recommend(examples["ombudsman-2024-kota-jambi-dpmptsp"])
    assert [r.id for r in first] == [r.id for r in again]
    assert first[0].id == recommendation_id("ORI-2024-15.71-DPMPTSP", Scope.INDICATOR, "pengaduan.tindak_lanjut")


@pytest.mark.parametrize(("score", "expected"), [(1.49, True), (1.5, False), (0, True), (3, False)])
def test_threshold_is_strictly_below_half(examples, score, expected):
    document = examples["ombudsman-2024-kota-jambi-dpmptsp"]
    indicator = document["data"]["aspects"][0]["indicators"][0]
    indicator["score"] = score
    codes = [r.indicator_code for r in _recommend(document)]
    assert (indicator["code"] in codes) is expected
