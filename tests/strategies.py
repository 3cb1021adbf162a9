"""Hypothesis strategies: valid assessment events and the ways input goes wrong."""

from __future__ import annotations

import copy
import json
import uuid

from hypothesis import strategies as st

from tests.conftest import contract_examples

EXAMPLES = list(contract_examples().values())


@st.composite
def valid_events(draw) -> bytes:
    """A contract example with fresh ids and drawn scores that stay in range."""
    document = copy.deepcopy(draw(st.sampled_from(EXAMPLES)))
    document["id"] = str(uuid.uuid4())
    data = document["data"]
    data["assessment_id"] = f"{data['assessment_id']}-{uuid.uuid4().hex[:8]}"
    for aspect in data["aspects"]:
        for indicator in aspect["indicators"]:
            indicator["score"] = draw(st.integers(0, int(indicator["max_score"])))
    return json.dumps(document).encode()


def _mutations():
    def drop(path):
        def apply(d):
            target = d
            for key in path[:-1]:
                target = target[key]
            del target[path[-1]]
        return apply

    def put(path, value):
        def apply(d):
            target = d
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value
        return apply

    return st.sampled_from([
        drop(["id"]), drop(["source"]), drop(["data"]), drop(["data", "unit"]), drop(["data", "score"]),
        put(["specversion"], "0.3"), put(["time"], "yesterday"), put(["type"], "tindaklanjut.other.thing.v1"),
        put(["data", "revision"], 0), put(["data", "framework"], "unknown"), put(["data", "cycle"], "1999"),
        put(["data", "score"], 1000), put(["data", "aspects"], []),
        put(["data", "aspects", 0, "weight"], -1), put(["data", "aspects", 0, "indicators", 0, "score"], 99),
        put(["data", "aspects", 0, "indicators", 0, "code"], ""),
        put(["data", "unit", "agency", "kind"], "desa"), put(["data", "published_at"], "2024-13-45"),
    ])


def _raw_poisons():
    """(reason code, raw bytes from a valid document): inputs that once halted
    every partition (issue: nothing halts) and must now be dead-lettered."""
    def text(document: dict) -> str:
        return json.dumps(document)

    def put(path, value):
        def apply(document):
            target = document
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value
            return text(document)
        return apply

    def many_indicators(document):
        aspect = document["data"]["aspects"][0]
        indicator = aspect["indicators"][0]
        document["data"]["aspects"] = [dict(aspect, code=f"A{j}", indicators=[
            dict(indicator, code=f"A{j}.{i}") for i in range(100)]) for j in range(5)]
        return text(document)

    return [
        ("too_deep", lambda d: text(d)[:-1] + ', "deep": ' + "[" * 5000 + "]" * 5000 + "}"),
        ("number_out_of_range", lambda d: text(d).replace('"revision": 1', '"revision": 1' + "1" * 4400, 1)),
        ("number_out_of_range", put(["data", "aspects", 0, "indicators", 0, "max_score"], float("inf"))),
        ("number_out_of_range", put(["data", "score"], float("nan"))),
        ("invalid_payload", put(["data", "published_at"], "9999-12-31T23:59:59+14:00")),
        ("invalid_payload", put(["data", "follow_up_until"], "9999-12-31")),
        ("nul_character", put(["data", "unit", "name"], "Dinas\x00Sosial")),
        ("invalid_payload", put(["data", "revision"], 2**31)),
        ("invalid_payload", put(["data", "revision"], 2**63)),
        ("invalid_payload", put(["data", "score"], "88.41")),
        ("invalid_payload", put(["data", "aspects", 0, "indicators", 0, "score"], "1")),
        ("duplicate_key", lambda d: text(d)[:-1] + ', "id": "again"}'),
        ("too_many_items", many_indicators),
        ("too_large", put(["data", "notes"], ["x" * 9000] * 120)),
        ("invalid_envelope", put(["id"], "x" * 5000)),
    ]


POISONS = _raw_poisons()


@st.composite
def poison_events(draw) -> bytes:
    document = json.loads(draw(valid_events()))
    _code, make = draw(st.sampled_from(POISONS))
    return make(document).encode("utf-8")


@st.composite
def invalid_events(draw) -> bytes:
    """Garbage bytes, broken JSON, a valid event with one thing wrong, or a poison."""
    kind = draw(st.sampled_from(["bytes", "json", "mutated", "poison"]))
    if kind == "poison":
        return draw(poison_events())
    if kind == "bytes":
        return draw(st.binary(max_size=64))
    if kind == "json":
        return json.dumps(draw(st.one_of(st.integers(), st.text(max_size=20), st.lists(st.integers(), max_size=3),
                                         st.dictionaries(st.text(max_size=5), st.integers(), max_size=3)))).encode()
    document = json.loads(draw(valid_events()))
    draw(_mutations())(document)
    return json.dumps(document).encode()


def interleaved():
    """A list of (is_valid, raw) in random order."""
    return st.lists(st.one_of(valid_events().map(lambda raw: (True, raw)),
                              invalid_events().map(lambda raw: (False, raw))), min_size=1, max_size=25)
