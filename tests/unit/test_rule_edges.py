"""Edges of the rules a wrong line would move: how an aspect's weight and an
indicator's gap set the priority, what an indicator recommendation carries
over from its indicator, the 70 % aspect threshold, the unit-level text, the
delivery window's edges and the fire day of a step on its due day."""

from __future__ import annotations

import copy
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from tindaklanjut.domain.model import Priority, Scope, recommendation_id
from tindaklanjut.domain.reminders import Window, fire_day, load_reminder_policy

from tests.unit.test_recommender import _recommend

DISDUKCAPIL = "ombudsman-2024-kota-jambi-disdukcapil"
WIB = ZoneInfo("Asia/Jakarta")


def reshaped(document: dict, weights: dict[str, float], aspect_scores: dict[str, float] | None = None,
             indicator_scores: dict[str, float] | None = None) -> dict:
    changed = copy.deepcopy(document)
    for aspect in changed["data"]["aspects"]:
        aspect["weight"] = weights[aspect["code"]]
        aspect["score"] = (aspect_scores or {}).get(aspect["code"], aspect["score"])
        for indicator in aspect["indicators"]:
            indicator["score"] = (indicator_scores or {}).get(indicator["code"], indicator["score"])
    return changed


def test_a_light_aspect_lowers_an_indicator_s_priority_by_its_weight(examples):
    document = examples[DISDUKCAPIL]
    codes = [a["code"] for a in document["data"]["aspects"]]
    weights = dict.fromkeys(codes, 40.0) | {"input": 10.0}
    # input: weight factor 0.5 + 0.5 x 10/40 = 0.625; a 1.2 of 3 gives a gap of 0.6, urgency 0.375: medium
    # proses: weight factor 1; 1 of 3 gives a gap of 2/3: high
    recs = {r.indicator_code: r for r in _recommend(reshaped(document, weights, indicator_scores={
        "input.kompetensi.standar_pelayanan": 1.2}))}
    light = recs["input.kompetensi.standar_pelayanan"]
    assert light.priority is Priority.MEDIUM
    assert recs["proses.sp.jangka_waktu"].priority is Priority.HIGH
    assert (light.indicator_name, light.sp_component, light.indicator_score, light.indicator_max_score) == (
        "Pengetahuan pelaksana tentang komponen standar pelayanan", 8, 1.2, 3)
    assert light.finding.startswith("Dua dari empat pelaksana") and light.aspect_code == "input"
    assert "(skor 1,2 dari 3). Temuan evaluator: \u201cDua dari empat" in light.action
    # an indicator without a finding: the text goes straight on to the legal basis
    plain = reshaped(document, weights, indicator_scores={"input.kompetensi.maladministrasi": 1})
    rec = next(r for r in _recommend(plain) if r.indicator_code == "input.kompetensi.maladministrasi")
    assert rec.finding is None and "(skor 1 dari 3). Dasar hukum: " in rec.action


def test_an_aspect_below_seventy_percent_without_a_weak_indicator_gets_its_own_recommendation(examples):
    document = examples[DISDUKCAPIL]
    weights = dict.fromkeys([a["code"] for a in document["data"]["aspects"]], 40.0)
    # output has no weak indicator; at 60 of 100 its gap is 0.4 with weight factor 1: medium
    recs = _recommend(reshaped(document, weights, aspect_scores={"output": 60.0}))
    (aspect,) = [r for r in recs if r.scope is Scope.ASPECT]
    assert (aspect.aspect_code, aspect.priority, aspect.indicator_code) == ("output", Priority.MEDIUM, None)
    assert aspect.id == recommendation_id(document["data"]["assessment_id"], Scope.ASPECT, "output")
    assert "(nilai 60 dari 100)." in aspect.action
    assert aspect.indicator_name is aspect.sp_component is aspect.finding is None
    at_threshold = _recommend(reshaped(document, weights, aspect_scores={"output": 70.0}))
    assert not [r for r in at_threshold if r.scope is Scope.ASPECT]          # 70 % is not below 70 %


def test_a_weak_unit_without_weak_indicators_gets_one_unit_recommendation_without_an_opinion(examples):
    document = copy.deepcopy(examples[DISDUKCAPIL])
    for aspect in document["data"]["aspects"]:
        aspect["score"] = 80.0
        for indicator in aspect["indicators"]:
            indicator["score"] = indicator["max_score"]
    (unit,) = _recommend(document)
    assert unit.scope is Scope.UNIT and unit.aspect_code is None and unit.indicator_code is None
    assert "Nilai unit 67,88 (kategori C" in unit.action
    assert "Opini" not in unit.action and "XX" not in unit.action


@pytest.mark.parametrize(("local", "expected"), [
    # Monday 10 February 2025
    (datetime(2025, 2, 10, 7, 0, tzinfo=WIB), Window(open=False, day=date(2025, 2, 10),
                                                    next_open=datetime(2025, 2, 10, 8, 0, tzinfo=WIB))),
    (datetime(2025, 2, 10, 9, 0, tzinfo=WIB), Window(open=True, day=date(2025, 2, 10),
                                                    next_open=datetime(2025, 2, 10, 9, 0, tzinfo=WIB))),
    (datetime(2025, 2, 10, 16, 0, tzinfo=WIB), Window(open=False, day=date(2025, 2, 10),
                                                     next_open=datetime(2025, 2, 11, 8, 0, tzinfo=WIB))),
    # Saturday 8 February, before the opening hour: the next opening is Monday's
    (datetime(2025, 2, 8, 7, 0, tzinfo=WIB), Window(open=False, day=date(2025, 2, 8),
                                                   next_open=datetime(2025, 2, 10, 8, 0, tzinfo=WIB))),
])
def test_the_delivery_window_at_its_edges(local, expected):
    policy = load_reminder_policy()
    assert (policy.send_from, policy.send_until) == (time(8), time(16))
    window = policy.window(local, WIB)
    assert window == expected
    assert window.next_open.utcoffset() == expected.next_open.utcoffset()


def test_a_step_on_its_due_day_moves_forward_and_one_before_it_moves_back():
    saturday = date(2025, 2, 8)
    assert fire_day(saturday, 0) == date(2025, 2, 10)             # the due day itself: Monday
    assert fire_day(saturday, 1) == date(2025, 2, 10)             # Sunday -> Monday
    assert fire_day(date(2025, 2, 9), -1) == date(2025, 2, 7)     # Saturday before -> Friday
