"""Events as the official CloudEvents SDK sends them over Kafka, in both
content modes and with both of its APIs (the 1.x `cloudevents.v1.kafka` one
and the 2.x `cloudevents.core.bindings.kafka` one), are the same event."""

import copy
import json
from datetime import datetime

import pytest
from cloudevents.core.bindings import kafka as kafka_v2
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent as CloudEventV2
from cloudevents.v1 import kafka as kafka_v1
from cloudevents.v1.http import CloudEvent as CloudEventV1

from tindaklanjut.domain.frameworks import load_frameworks
from tindaklanjut.ports.validation import Rejected, parse_assessment

from tests.conftest import contract_examples

CATALOGUE = load_frameworks()
EXAMPLES = contract_examples()


def _attributes(document: dict) -> dict:
    return {k: v for k, v in document.items() if k != "data"}


def _v1(document, mode):
    event = CloudEventV1(_attributes(document), document["data"])
    message = (kafka_v1.to_binary if mode == "binary" else kafka_v1.to_structured)(
        event, key_mapper=lambda e: document["data"]["unit"]["id"])
    return message.value, list(message.headers.items()), message.key


def _v2(document, mode):
    attributes = _attributes(document)
    attributes["time"] = datetime.fromisoformat(attributes["time"])
    event = CloudEventV2(attributes=attributes, data=document["data"])
    message = (kafka_v2.to_binary if mode == "binary" else kafka_v2.to_structured)(
        event, JSONFormat(), key_mapper=lambda e: document["data"]["unit"]["id"])
    return message.value, list(message.headers.items()), message.key


@pytest.mark.parametrize("name", sorted(EXAMPLES))
@pytest.mark.parametrize("mode", ["structured", "binary"])
@pytest.mark.parametrize("sdk", [_v1, _v2], ids=["sdk-1.x-api", "sdk-2.x-api"])
def test_an_sdk_message_is_the_same_event_as_the_plain_json(name, mode, sdk):
    document = EXAMPLES[name]
    plain = parse_assessment(json.dumps(document).encode(), CATALOGUE)
    value, headers, key = sdk(document, mode)
    if mode == "binary":
        assert any(h == "ce_specversion" for h, _ in headers)
    parsed = parse_assessment(value, CATALOGUE, headers=headers)
    assert parsed.data == plain.data
    assert (parsed.id, parsed.source, parsed.type, parsed.subject) == (plain.id, plain.source, plain.type,
                                                                      plain.subject)
    assert parsed.time == plain.time and parsed.datacontenttype == "application/json"


def test_structured_mode_without_datacontenttype_means_json():
    document = copy.deepcopy(EXAMPLES["pekppp-2024-prov-jambi-dinsos"])
    del document["datacontenttype"]
    assert parse_assessment(json.dumps(document).encode(), CATALOGUE).datacontenttype == "application/json"
    charset = dict(document, datacontenttype="application/json; charset=utf-8")
    assert parse_assessment(json.dumps(charset).encode(), CATALOGUE).datacontenttype == "application/json"


def test_each_part_that_fails_is_named():
    document = EXAMPLES["pekppp-2024-prov-jambi-dinsos"]
    value, headers, _ = _v1(document, "binary")
    with pytest.raises(Rejected) as refused:
        parse_assessment(value, CATALOGUE, headers=[(h, b"text/xml" if h == "content-type" else v)
                                                    for h, v in headers])
    assert refused.value.code == "invalid_mode"
    with pytest.raises(Rejected) as refused:            # an envelope attribute broken in a ce_ header
        parse_assessment(value, CATALOGUE, headers=[(h, b"" if h == "ce_id" else v) for h, v in headers])
    assert refused.value.code == "invalid_envelope"
    broken = dict(document["data"], score="3.2")
    with pytest.raises(Rejected) as refused:
        parse_assessment(json.dumps(broken).encode(), CATALOGUE, headers=headers)
    assert refused.value.code == "invalid_payload"
    with pytest.raises(Rejected) as refused:
        parse_assessment(value, CATALOGUE, headers=[*headers, ("ce_note", b"\xff\xfe")])
    assert refused.value.code == "invalid_mode"
