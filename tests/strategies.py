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


@st.composite
def invalid_events(draw) -> bytes:
    """Garbage bytes, broken JSON, or a valid event with one thing wrong."""
    kind = draw(st.sampled_from(["bytes", "json", "mutated"]))
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
