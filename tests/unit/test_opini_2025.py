"""The Ombudsman's 2025 results (Opini Ombudsman RI, Peraturan Ombudsman
61/2025, released 29 January 2026) are accepted with their opinion and
qualifier and produce saran perbaikan with deadlines at 23:59 local time.

The opinions and qualifiers below are the published ones: "Kualitas
Tertinggi Tanpa Maladministrasi" for Kota Denpasar and the other 2025
top-rated governments (Ombudsman RI, 29 January 2026; shared/domain.md
[P21][F21]). The per-indicator scores of a rapor are not published, so the
aspect and indicator scores here are made up for the test, and so is the
lower-rated unit's whole result.
"""

import copy
import json
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from tindaklanjut.domain.frameworks import load_frameworks
from tindaklanjut.domain.policy import load_policy
from tindaklanjut.ports.messages import IngestAssessment, Origin
from tindaklanjut.ports.validation import Rejected, parse_assessment
from tindaklanjut.service_layer.handlers import ingest_assessments

from tests.conftest import contract_examples
from tests.unit.fakes import FakeUnitOfWork

CATALOGUE, POLICY = load_frameworks(), load_policy()
NOW = datetime(2026, 2, 10, 2, 0, tzinfo=timezone.utc)


def opini(*, unit_id, unit_name, agency, region, score, grade, opinion, qualified, proses_score=12.0):
    document = copy.deepcopy(contract_examples()["ombudsman-2024-kota-jambi-disdukcapil"])
    data = document["data"]
    document["id"] = f"ori-opini-2025-{unit_id}"
    document["time"] = "2026-02-09T09:00:00+08:00"
    data.update(assessment_id=f"ORI-OPINI-2025-{unit_id}", framework="ombudsman-opini", cycle="2025",
                published_at="2026-02-09T09:00:00+08:00", follow_up_until=None, score=score, grade=grade,
                opinion=opinion, without_maladministration=qualified, report_ref="B/0123/LM.01/II/2026")
    data["unit"] = {"id": unit_id, "name": unit_name, "region_code": region,
                    "agency": {"id": region, "name": agency, "kind": "pemkot"}}
    data["aspects"][1]["score"] = proses_score
    return document


DENPASAR = opini(unit_id="51.71/dpmptsp", unit_name="DPMPTSP Kota Denpasar", agency="Pemerintah Kota Denpasar",
                 region="51.71", score=93.5, grade="A", opinion="Kualitas Tertinggi", qualified=True)
WEAK = opini(unit_id="51.71/disdukcapil", unit_name="Disdukcapil Kota Denpasar", agency="Pemerintah Kota Denpasar",
             region="51.71", score=61.2, grade="C", opinion="Opini Kualitas Sedang", qualified=False)


def test_a_2025_opinion_is_accepted_with_its_opinion_and_qualifier():
    event = parse_assessment(json.dumps(DENPASAR).encode(), CATALOGUE)
    assert (event.data.opinion, event.data.without_maladministration, event.data.report_ref) == \
        ("Kualitas Tertinggi", True, "B/0123/LM.01/II/2026")
    framework = CATALOGUE.get("ombudsman-opini")
    assert framework.scale_for("2025").band_for(93.5).label == "Kualitas Tertinggi"
    assert framework.scale_for("2026") is not None          # the 2026 cycle is under way


def test_the_old_compliance_framework_still_ends_with_2024():
    document = copy.deepcopy(DENPASAR)
    document["data"]["framework"] = "ombudsman-kepatuhan"
    with pytest.raises(Rejected, match="unknown_cycle"):
        parse_assessment(json.dumps(document).encode(), CATALOGUE)


@pytest.mark.parametrize(("opinion", "ok"), [("Kualitas Sedang", True), ("Opini Kualitas Sedang", True),
                                             ("Opini Kualitas Sedang Tanpa Maladministrasi", True),
                                             ("kualitas   sedang", True), ("Sangat Baik", False), (None, False)])
def test_the_opinion_must_be_one_the_ombudsman_gives(opinion, ok):
    document = copy.deepcopy(WEAK)
    document["data"]["opinion"] = opinion
    if ok:
        parse_assessment(json.dumps(document).encode(), CATALOGUE)
    else:
        with pytest.raises(Rejected) as refused:
            parse_assessment(json.dumps(document).encode(), CATALOGUE)
        assert refused.value.code == "invalid_payload" and "opinion" in refused.value.message


async def test_a_weak_2025_result_gets_saran_perbaikan_due_at_23_59_wita():
    uow = FakeUnitOfWork()
    report = await ingest_assessments(
        [IngestAssessment(raw=json.dumps(d).encode(), origin=Origin(topic="t", offset=i))
         for i, d in enumerate([DENPASAR, WEAK])], uow=uow, catalogue=CATALOGUE, policy=POLICY, clock=lambda: NOW)
    assert (report.processed, report.dead_lettered) == (2, 0)
    weak = [r for r in uow.recommendations.rows.values() if r.unit_id == "51.71/disdukcapil"]
    assert weak and {r.framework for r in weak} == {"ombudsman-opini"}
    for rec in weak:
        local = rec.due_at.astimezone(ZoneInfo("Asia/Makassar"))
        assert (local.hour, local.minute) == (23, 59)                 # WITA, Bali
        assert rec.due_at.astimezone(timezone.utc).hour == 15
    assessment = uow.assessments.rows[("ORI-OPINI-2025-51.71/disdukcapil", 1)]
    assert (assessment.computed_grade, assessment.official_grade) == ("C", "C")
