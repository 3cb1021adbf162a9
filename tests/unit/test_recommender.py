"""The recommendation engine on the contract examples and on edge cases.

The expected texts, priorities and deadlines of the three examples are
documented in docs/recommendations.md.
"""

from datetime import date, datetime, timezone

import pytest

from tindaklanjut.domain.frameworks import load_frameworks
from tindaklanjut.domain.model import Assessment, Priority, Scope, recommendation_id
from tindaklanjut.domain.policy import load_policy
from tindaklanjut.domain.recommender import recommend
from tindaklanjut.events.assessment import AssessmentPublishedEvent

CATALOGUE = load_frameworks()
POLICY = load_policy()
ISSUED = datetime(2024, 12, 21, tzinfo=timezone.utc)


def _recommend(document, policy=POLICY):
    event = AssessmentPublishedEvent.model_validate(document)
    data = event.data
    framework = CATALOGUE.get(data.framework)
    assessment = Assessment(
        assessment_id=data.assessment_id, revision=data.revision, framework=data.framework, cycle=data.cycle,
        unit_id=data.unit.id, agency_id=data.unit.agency.id, score=data.score, official_grade=data.grade,
        computed_grade=framework.scale_for(data.cycle).band_for(data.score).grade, published_at=data.published_at,
        follow_up_until=data.follow_up_until or framework.default_follow_up_until(data.cycle),
        source=event.source, event_id=event.id)
    return recommend(data, assessment, framework=framework, policy=policy, issued_at=ISSUED)


def test_disdukcapil_grade_c_gets_four_high_priority_recommendations(examples):
    recs = _recommend(examples["ombudsman-2024-kota-jambi-disdukcapil"])
    assert [(r.indicator_code, r.template, r.priority) for r in recs] == [
        ("input.kompetensi.standar_pelayanan", "sp.8", Priority.HIGH),
        ("input.sarpras.kelompok_rentan", "sp.7", Priority.HIGH),
        ("proses.sp.jangka_waktu", "sp.4", Priority.HIGH),
        ("pengaduan.pengelola", "sp.10", Priority.HIGH)]
    # 30 days after 3 Dec 2024 is 2 Jan 2025 (1 Jan is a holiday, 2 Jan a Thursday); the facilities
    # saran (budget and construction) first needs a rencana aksi, due after the year-end closing weeks.
    planned = [r for r in recs if r.needs_plan]
    assert [r.template for r in planned] == ["sp.7"]
    assert {r.due_date for r in recs if not r.needs_plan} == {date(2025, 1, 2)}
    assert planned[0].due_date == date(2025, 1, 13) and planned[0].plan is None
    complaints = recs[3]
    assert complaints.due_at.isoformat() == "2025-01-02T23:59:00+07:00"
    assert complaints.title == "Perbaiki pengelolaan pengaduan"
    assert complaints.action.startswith("Tetapkan pengelola pengaduan dengan surat keputusan")
    assert ("Indikator: Tersedia pengelola pengaduan yang ditetapkan (skor 1 dari 3). Temuan evaluator: "
            "\u201cBelum ada SK pengelola pengaduan; kanal SP4N-LAPOR! belum terintegrasi.\u201d") in complaints.action
    assert complaints.evidence.startswith("SK pengelola pengaduan")
    assert complaints.rule_id == "indicator.below_half" and complaints.catalogue_version == "2026.4"
    assert complaints.action.endswith("Dasar hukum: UU 25/2009 pasal 21; Perpres 76/2013 (pengelolaan pengaduan pelayanan publik); PermenPANRB 46/2020 (SP4N-LAPOR!).")
    assert {r.scope for r in recs} == {Scope.INDICATOR}


def test_dpmptsp_grade_a_gets_a_low_priority_report_card_note_due_at_window_end(examples):
    recs = _recommend(examples["ombudsman-2024-kota-jambi-dpmptsp"])
    assert [(r.indicator_code, r.priority, r.due_date) for r in recs] == [
        ("pengaduan.tindak_lanjut", Priority.LOW, date(2025, 6, 30))]
    assert recs[0].template == "indicator.ombudsman.pengaduan.tindak_lanjut"      # the most specific template
    assert recs[0].title == "Tindak lanjuti pengaduan dan publikasikan hasilnya"
    assert "Rekap tindak lanjut pengaduan triwulan III belum dipublikasikan." in recs[0].action


def test_dinsos_grade_b_gets_three_medium_priority_recommendations(examples):
    recs = _recommend(examples["pekppp-2024-prov-jambi-dinsos"])
    assert [(r.indicator_code, r.template) for r in recs] == [("I.8", "indicator.pekppp.I.8"), ("III.4", "sp.7"),
                                                              ("V.4", "sp.10")]
    assert {r.priority for r in recs} == {Priority.MEDIUM}          # B is not weak: capped at medium
    assert {r.due_date for r in recs if not r.needs_plan} == {date(2025, 2, 18)}    # 20 Dec 2024 + 60 days
    # Facilities (sp.7) first need a rencana aksi: 30 days after 20 Dec is Sunday 19 Jan, so Monday 20 Jan.
    assert [(r.template, r.due_date) for r in recs if r.needs_plan] == [("sp.7", date(2025, 1, 20))]
    assert recs[0].title == "Selesaikan rencana tindak lanjut hasil SKM"


def test_a_weak_unit_without_weak_indicators_gets_a_unit_level_recommendation(examples):
    document = examples["ombudsman-2024-kota-jambi-dpmptsp"]
    data = document["data"]
    data["score"], data["grade"] = 60.0, "C"
    data["aspects"][3]["indicators"][1]["score"] = 2
    recs = _recommend(document)
    [unit] = [r for r in recs if r.scope is Scope.UNIT]
    assert unit.rule_id == "unit.weak_grade" and unit.indicator_code is None and unit.aspect_code is None
    assert "Nilai unit 60 (kategori C, Kualitas Sedang)" in unit.action
    assert unit.priority is Priority.MEDIUM             # gap 0.40 -> medium


def test_a_weak_aspect_without_weak_indicators_in_a_weak_unit_gets_an_aspect_recommendation(examples):
    document = examples["ombudsman-2024-kota-jambi-disdukcapil"]
    document["data"]["aspects"][2]["score"] = 50.0    # output: its only indicator scores 2 of 3
    recs = _recommend(document)
    [aspect] = [r for r in recs if r.scope is Scope.ASPECT]
    assert (aspect.aspect_code, aspect.template, aspect.rule_id) == ("output", "ombudsman.output",
                                                                     "aspect.below_70pct")
    assert "Aspek: Dimensi Output (persepsi maladministrasi) (nilai 50 dari 100)." in aspect.action


def test_the_grade_used_is_the_official_one_when_given(examples):
    document = examples["ombudsman-2024-kota-jambi-dpmptsp"]
    document["data"]["grade"] = "C"           # the score says A; the official grade wins
    recs = _recommend(document)
    assert recs[0].priority is Priority.HIGH


def test_deadline_never_passes_the_follow_up_window(examples):
    document = examples["ombudsman-2024-kota-jambi-disdukcapil"]
    document["data"]["follow_up_until"] = "2024-12-20"   # a Friday, before the 30-day deadline
    recs = _recommend(document)
    assert {r.due_date for r in recs} == {date(2024, 12, 20)}


def test_ids_are_stable_for_the_same_weakness(examples):
    first = _recommend(examples["ombudsman-2024-kota-jambi-dpmptsp"])
    again = _recommend(examples["ombudsman-2024-kota-jambi-dpmptsp"])
    assert [r.id for r in first] == [r.id for r in again]
    assert first[0].id == recommendation_id("ORI-2024-15.71-DPMPTSP", Scope.INDICATOR, "pengaduan.tindak_lanjut")


@pytest.mark.parametrize(("score", "expected"), [(1.49, True), (1.5, False), (0, True), (3, False)])
def test_default_threshold_is_strictly_below_half(examples, score, expected):
    document = examples["ombudsman-2024-kota-jambi-dpmptsp"]
    indicator = document["data"]["aspects"][0]["indicators"][0]
    indicator["score"] = score
    codes = [r.indicator_code for r in _recommend(document)]
    assert (indicator["code"] in codes) is expected


def test_the_threshold_is_configurable(examples):
    rules = POLICY.rules.model_dump()
    rules["weak_indicator"].update(threshold=2 / 3, inclusive=True)
    policy = load_policy(rules=rules)
    codes = [r.indicator_code for r in _recommend(examples["ombudsman-2024-kota-jambi-disdukcapil"], policy)]
    assert len(codes) == 8      # every indicator scored 1 or 2 of 3


def test_the_catalogue_must_cover_every_sp_component():
    catalogue = POLICY.catalogue.model_dump()
    del catalogue["templates"]["sp.13"]
    with pytest.raises(ValueError, match="sp.13"):
        load_policy(catalogue=catalogue)


def test_every_catalogue_entry_cites_a_legal_basis_and_an_entry_without_one_is_refused():
    import re

    import yaml
    from importlib.resources import files
    from pydantic import ValidationError

    from tindaklanjut.domain.policy import load_policy

    catalogue = load_policy().catalogue
    regulation = re.compile(r"\b(UU|PP|Perpres|PermenPANRB|Peraturan Ombudsman) \d+/\d{4}")
    assert all(regulation.search(t.basis) for t in catalogue.templates.values()), [
        key for key, t in catalogue.templates.items() if not regulation.search(t.basis)]
    raw = yaml.safe_load(files("tindaklanjut.data").joinpath("catalog.yaml").read_text("utf-8"))
    del raw["templates"]["sp.4"]["basis"]
    with pytest.raises(ValidationError, match="basis"):
        load_policy(catalogue=raw)
