"""Every kind of bad input gets a machine-readable reason."""

import json

import pytest

from tindaklanjut.domain.frameworks import load_frameworks
from tindaklanjut.ports.validation import Rejected, parse_assessment

CATALOGUE = load_frameworks()


def _raw(document) -> bytes:
    return json.dumps(document).encode()


def _code(raw: bytes) -> str:
    with pytest.raises(Rejected) as caught:
        parse_assessment(raw, CATALOGUE)
    return caught.value.code


def test_valid_examples_pass(examples):
    for document in examples.values():
        assert parse_assessment(_raw(document), CATALOGUE).data.assessment_id == document["data"]["assessment_id"]


def test_malformed_json():
    assert _code(b'{"specversion": "1.0",') == "malformed_json"
    assert _code(b"\xff\xfe") == "malformed_json"


def test_not_an_object_or_wrong_type(examples):
    assert _code(b"[1, 2]") == "invalid_envelope"
    document = examples["ombudsman-2024-kota-jambi-dpmptsp"]
    document["type"] = "tindaklanjut.something.else.v1"
    assert _code(_raw(document)) == "unsupported_type"


def test_envelope_errors(examples):
    document = examples["ombudsman-2024-kota-jambi-dpmptsp"]
    del document["id"]
    assert _code(_raw(document)) == "invalid_envelope"
    document = examples["ombudsman-2024-kota-jambi-dpmptsp"]
    document["time"] = "2024-12-03T03:00:00"      # no offset
    assert _code(_raw(document)) == "invalid_envelope"


@pytest.mark.parametrize("mutate", [
    lambda d: d["data"].pop("assessment_id"),
    lambda d: d["data"].update(revision=0),
    lambda d: d["data"].update(aspects=[]),
    lambda d: d["data"]["aspects"][0].update(weight=0),
    lambda d: d["data"]["aspects"][0]["indicators"][0].update(score=4),        # above max_score 3
    lambda d: d["data"]["aspects"][0]["indicators"][0].update(code=""),
    lambda d: d["data"]["aspects"][0]["indicators"][0].update(sp_component=15),
    lambda d: d["data"]["unit"]["agency"].update(kind="desa"),
])
def test_payload_errors(examples, mutate):
    document = examples["ombudsman-2024-kota-jambi-disdukcapil"]
    mutate(document)
    assert _code(_raw(document)) == "invalid_payload"


def test_reason_names_the_field(examples):
    document = examples["ombudsman-2024-kota-jambi-disdukcapil"]
    document["data"]["aspects"][0]["indicators"][0]["score"] = 4
    with pytest.raises(Rejected) as caught:
        parse_assessment(_raw(document), CATALOGUE)
    assert caught.value.errors[0]["loc"].startswith("data.aspects.0.indicators.0")
    assert "exceeds max_score" in str(caught.value)


def test_an_indicator_keeps_the_contract_fields_only(examples):
    """Indicators are typed dicts: unknown fields are dropped like everywhere else in the payload,
    the optional ones are present as None, and a score sent as a string is refused (strict)."""
    document = examples["ombudsman-2024-kota-jambi-disdukcapil"]
    sent = document["data"]["aspects"][0]["indicators"][0]
    sent.pop("sp_component", None)
    sent.pop("finding", None)
    sent["extra_from_the_evaluator"] = {"nested": [1, 2]}
    indicator = parse_assessment(_raw(document), CATALOGUE).data.aspects[0].indicators[0]
    assert set(indicator) == {"code", "name", "score", "max_score", "sp_component", "finding"}
    assert (indicator["sp_component"], indicator["finding"]) == (None, None)
    assert (indicator["code"], indicator["score"]) == (sent["code"], float(sent["score"]))
    sent["score"] = "2"
    assert _code(_raw(document)) == "invalid_payload"


@pytest.mark.parametrize(("field", "value", "code"), [
    ("framework", "unknown-framework", "unknown_framework"),
    ("cycle", "2019", "unknown_cycle"),
    ("score", 5.2, "score_out_of_range"),      # IPP is 0-5
])
def test_configuration_checks(examples, field, value, code):
    document = examples["pekppp-2024-prov-jambi-dinsos"]
    document["data"][field] = value
    assert _code(_raw(document)) == code


def test_unknown_extra_fields_are_accepted(examples):
    document = examples["pekppp-2024-prov-jambi-dinsos"]
    document["traceparent"] = "00-abc-def-01"        # a CloudEvents extension
    document["data"]["extra_field"] = {"anything": 1}
    assert parse_assessment(_raw(document), CATALOGUE).model_extra == {"traceparent": "00-abc-def-01"}


def test_a_ministry_may_omit_the_region_and_a_regional_government_may_not(examples):
    import copy

    ministry = copy.deepcopy(examples["pekppp-2024-prov-jambi-dinsos"])
    unit = ministry["data"]["unit"]
    unit.update(id="kemendagri/dukcapil-pusat", name="Ditjen Dukcapil")
    unit["agency"] = {"id": "kemendagri", "name": "Kementerian Dalam Negeri", "kind": "kementerian"}
    del unit["region_code"]
    event = parse_assessment(_raw(ministry), load_frameworks())
    assert event.data.unit.region_code == "00"
    regional = copy.deepcopy(examples["pekppp-2024-prov-jambi-dinsos"])
    del regional["data"]["unit"]["region_code"]
    assert _code(_raw(regional)) == "invalid_payload"


async def test_a_ministrys_deadline_ends_at_midnight_jakarta_time(examples):
    import copy
    from datetime import time

    from tindaklanjut.ports.messages import IngestAssessment, Origin
    from tindaklanjut.service_layer import commands
    from tests.unit.test_command_handlers import Harness

    ministry = copy.deepcopy(examples["ombudsman-2024-kota-jambi-disdukcapil"])
    unit = ministry["data"]["unit"]
    unit.update(id="kemenag/kua-pusat", name="Layanan KUA")
    unit["agency"] = {"id": "kemenag", "name": "Kementerian Agama", "kind": "kementerian"}
    del unit["region_code"]
    harness = Harness()
    report = await harness.handle(commands.IngestAssessments(messages=(
        IngestAssessment(raw=_raw(ministry), origin=Origin(topic="t", offset=0)),)))
    assert report.processed == 1
    issued = list(harness.uow.recommendations.rows.values())
    assert issued and {str(r.due_at.tzinfo) for r in issued} == {"Asia/Jakarta"}
    assert {r.due_at.time() for r in issued} == {time(23, 59)}
    assert harness.uow.directory.units["kemenag/kua-pusat"].region_code == "00"
