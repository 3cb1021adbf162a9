"""The fixed input contract: examples accepted unchanged, schemas in sync."""

import json
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest

from tindaklanjut.events.assessment import AssessmentPublishedEvent
from tindaklanjut.events.envelope import topic_for_type
from tindaklanjut.events.registry import EVENTS

from tests.conftest import CONTRACT_DIR, contract_examples

SCHEMA_DIR = Path(__file__).parents[2] / "schemas"


def test_the_three_contract_examples_are_in_the_repo():
    assert sorted(contract_examples()) == [
        "ombudsman-2024-kota-jambi-disdukcapil", "ombudsman-2024-kota-jambi-dpmptsp",
        "pekppp-2024-prov-jambi-dinsos"]


@pytest.mark.parametrize("spec", EVENTS, ids=lambda s: s.type)
def test_schema_files_match_the_models(spec):
    on_disk = json.loads((SCHEMA_DIR / spec.schema_filename).read_text("utf-8"))
    assert on_disk == spec.json_schema(), "run `tindaklanjut schemas` to regenerate"


@pytest.mark.parametrize("name", sorted(contract_examples()))
def test_examples_validate_against_the_published_schema(name):
    schema = json.loads((SCHEMA_DIR / "tindaklanjut.assessment.published.v1.json").read_text("utf-8"))
    jsonschema.Draft202012Validator(schema).validate(contract_examples()[name])


@pytest.mark.parametrize("name", sorted(contract_examples()))
def test_examples_parse_into_the_model_unchanged(name):
    raw = (CONTRACT_DIR / f"{name}.json").read_bytes()
    event = AssessmentPublishedEvent.model_validate_json(raw)
    assert event.data.unit.id == json.loads(raw)["data"]["unit"]["id"]


def test_schema_rejects_what_the_model_rejects():
    schema = json.loads((SCHEMA_DIR / "tindaklanjut.assessment.published.v1.json").read_text("utf-8"))
    document = contract_examples()["ombudsman-2024-kota-jambi-dpmptsp"]
    document["data"]["revision"] = 0
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(document)


def test_packaged_sample_data_is_the_contract_examples():
    packaged = {p.name: p.read_bytes() for p in files("tindaklanjut.data.samples").iterdir()
                if p.name.endswith(".json")}
    assert packaged == {p.name: p.read_bytes() for p in CONTRACT_DIR.glob("*.json")}


def test_topic_names_follow_the_kafka_binding():
    assert [spec.topic for spec in EVENTS][:3] == ["assessment.published", "recommendation.issued", "followup.changed"]
    with pytest.raises(ValueError):
        topic_for_type("com.example.other")
