"""The unit-level saran, as an agency reads it: when no indicator is weak but the unit is, the
text gives the unit's score in Indonesian notation, its grade and band, the Ombudsman's opinion
with its qualifier, and each note of the rapor, quoted."""

from __future__ import annotations

import json

import pytest

from tindaklanjut.domain.model import Priority, Scope
from tindaklanjut.ports.messages import IngestAssessment, Origin
from tindaklanjut.service_layer.handlers import ingest_assessments

from tests.unit.fakes import FakeUnitOfWork
from tests.unit.test_opini_2025 import CATALOGUE, NOW, POLICY, opini


async def unit_saran(*, score: float, opinion: str, qualified: bool, notes: list[str]):
    """A weak 2025 result whose every aspect and indicator is at its maximum: one unit saran."""
    document = opini(unit_id="51.71/dishub", unit_name="Dishub Kota Denpasar", agency="Pemerintah Kota Denpasar",
                     region="51.71", score=score, grade="C", opinion=opinion, qualified=qualified)
    for aspect in document["data"]["aspects"]:
        aspect["score"] = aspect["max_score"]
        for indicator in aspect.get("indicators", []):
            indicator["score"] = indicator["max_score"]
    document["data"]["notes"] = notes
    uow = FakeUnitOfWork()
    await ingest_assessments([IngestAssessment(raw=json.dumps(document).encode(), origin=Origin(topic="t"))],
                             uow=uow, catalogue=CATALOGUE, policy=POLICY, clock=lambda: NOW)
    (saran,) = uow.recommendations.rows.values()
    return saran


async def test_the_unit_saran_quotes_the_opinion_its_qualifier_and_each_note():
    saran = await unit_saran(score=61.25, opinion="Kualitas Sedang", qualified=True,
                             notes=["Ruang tunggu sempit", "  ", "Loket daring belum ada"])
    assert (saran.scope, saran.template, saran.priority) == (Scope.UNIT, "unit", Priority.MEDIUM)
    assert ("Nilai unit 61,25 (kategori C, Kualitas Sedang). Opini: Kualitas Sedang (Tanpa Maladministrasi). "
            "Catatan rapor: \u201cRuang tunggu sempit\u201d Catatan rapor: \u201cLoket daring belum ada\u201d "
            "Dasar hukum:") in saran.action


@pytest.mark.parametrize("score, shown", [(61.0, "61"), (61.5, "61,5"), (60.05, "60,05")])
async def test_without_qualifier_or_notes_the_text_ends_at_the_opinion(score, shown):
    saran = await unit_saran(score=score, opinion="Kualitas Sedang", qualified=False, notes=[])
    assert f"Nilai unit {shown} (kategori C, Kualitas Sedang). Opini: Kualitas Sedang. Dasar hukum:" in saran.action


async def test_the_gap_below_the_scale_sets_the_priority():
    low = await unit_saran(score=40.0, opinion="Kualitas Rendah", qualified=False, notes=[])
    assert low.priority is Priority.HIGH                         # 1 - 40/100 = 0.6, over the high edge
    assert "Opini: Kualitas Rendah." in low.action
