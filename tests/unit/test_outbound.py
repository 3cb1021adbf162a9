"""Outgoing messages, built exactly: a dead letter keeps the original bytes (cut to fit the
broker) with its reason in headers of its own; issued and follow-up events carry stable ids."""

import json
import uuid
from datetime import datetime, timezone

from tindaklanjut.domain.events import FollowUpChanged
from tindaklanjut.service_layer import commands, outbound

from tests.unit.test_command_handlers import KOTA, ingested_harness

AT = datetime(2024, 12, 21, 3, 0, tzinfo=timezone.utc)


def _dead_letter(raw=b'{"x": 1}', **overrides):
    arguments = dict(raw=raw, key=b"15.71/dpmptsp", origin_topic="assessment.published", partition=2, offset=41,
                     code="invalid_envelope", message="specversion harus 1.0", errors=[{"loc": "specversion"}],
                     at=AT, sha256="ab" * 32, headers=(("content-type", b"application/json"),
                                                       ("tindaklanjut-dlq-code", b"lama")))
    return outbound.dead_letter(**(arguments | overrides))


def test_a_dead_letter_is_the_original_message_with_its_reason_beside_it():
    message = _dead_letter()
    assert (message.topic, message.key, message.event_type, message.event_id, message.value) == \
        ("deadletter", "15.71/dpmptsp", "deadletter", "ab" * 32, b'{"x": 1}')
    headers = dict(message.headers)
    assert headers["content-type"] == "application/json"            # the original headers, decoded
    assert headers["tindaklanjut-dlq-code"] == "invalid_envelope"    # an earlier dead letter's reason is replaced
    assert [name for name, _ in message.headers].count("tindaklanjut-dlq-code") == 1
    reason = json.loads(headers[outbound.DLQ_REASON_HEADER])
    assert reason == {"code": "invalid_envelope", "message": "specversion harus 1.0",
                      "errors": [{"loc": "specversion"}], "topic": "assessment.published", "partition": 2,
                      "offset": 41, "received_at": AT.isoformat(), "size": 8, "sha256": "ab" * 32}
    assert outbound.DLQ_TRUNCATED_HEADER not in headers


def test_a_dead_letter_too_large_for_the_broker_is_cut_and_says_so():
    raw = b"x" * 5000
    message = _dead_letter(raw=raw, max_value_bytes=4096, message="m" * 3000, errors=[{"n": n} for n in range(30)])
    assert message.value == raw[:4096]
    headers = dict(message.headers)
    assert headers[outbound.DLQ_TRUNCATED_HEADER] == "5000"
    reason = json.loads(headers[outbound.DLQ_REASON_HEADER])
    assert (len(reason["message"]), len(reason["errors"]), reason["size"]) == (2000, 20, 5000)
    exactly = _dead_letter(raw=b"y" * 4096, max_value_bytes=4096)
    assert outbound.DLQ_TRUNCATED_HEADER not in dict(exactly.headers) and len(exactly.value) == 4096
    assert _dead_letter(key=None).key is None and _dead_letter(key="teks").key == "teks"


def test_an_assessment_accepted_over_http_is_relayed_as_received():
    message = outbound.assessment_accepted(b'{"a":1}', event_id="e-1", unit_id="15/dinsos")
    assert (message.topic, message.key, message.event_id, message.value) == \
        ("assessment.published", "15/dinsos", "e-1", b'{"a":1}')
    assert message.event_type == "tindaklanjut.assessment.published.v1"
    assert message.headers == [("content-type", "application/cloudevents+json")]


async def test_issued_ids_are_stable_per_revision_and_follow_up_events_name_their_unit(examples):
    h = await ingested_harness(examples)
    rec = next(r for r in h.uow.recommendations.rows.values() if r.agency_id == "15.71")
    unit = h.uow.directory.units[rec.unit_id]
    first, again = outbound.recommendation_issued(rec, unit), outbound.recommendation_issued(rec, unit)
    assert first.event_id == again.event_id == str(uuid.uuid5(
        uuid.NAMESPACE_URL, f"{outbound.SOURCE}/{rec.id}/issued/{rec.assessment_revision}"))
    assert first.value == again.value
    rec.assessment_revision += 1
    assert outbound.recommendation_issued(rec, unit).event_id != first.event_id     # a revision is new news
    event = FollowUpChanged(recommendation_id=rec.id, action="record_action", actor="operator-kota", role="agency",
                            from_status="open", to_status="in_progress", occurred_at=AT)
    changed = outbound.followup_changed(rec, event)
    body = json.loads(changed.value)
    assert (changed.topic, changed.key, changed.event_id) == ("followup.changed", rec.unit_id, body["id"])
    assert (body["source"], body["subject"], body["type"]) == ("urn:tindaklanjut:followup", rec.unit_id,
                                                               "tindaklanjut.followup.changed.v1")
    assert body["data"]["details"] == {} and body["data"]["evidence_sha256"] == []
    assert body["data"]["agency_id"] == "15.71" and body["time"].startswith("2024-12-21T03:00:00")
    await h.handle(commands.RecordAction(actor=KOTA, recommendation_id=rec.id, comment="dikerjakan"))
    [recorded] = [m for m in h.outbox("followup.changed") if m["data"]["recommendation_id"] == rec.id]
    assert (recorded["data"]["from_status"], recorded["data"]["to_status"], recorded["data"]["comment"]) == \
        ("open", "in_progress", "dikerjakan")


async def test_an_issued_payload_is_byte_for_byte_what_the_contract_model_writes(examples):
    import dataclasses
    from datetime import timedelta

    import orjson

    from tindaklanjut.events import recommendation as wire

    h = await ingested_harness(examples)
    recs = list(h.uow.recommendations.rows.values())
    assert len(recs) > 5
    # times with microseconds, in UTC and in a local zone; a carried-over one without a finding
    odd = dataclasses.replace(recs[0], issued_at=AT + timedelta(microseconds=123456), carried_over_from="r-lama",
                              finding=None, due_at=recs[0].due_at + timedelta(microseconds=7))
    for rec in [*recs, odd]:
        unit = h.uow.directory.units[rec.unit_id]
        payload = outbound.issued_payload(rec, unit)
        as_model = wire.RecommendationIssued.model_validate(payload)        # every field the contract knows
        assert list(payload) == list(wire.RecommendationIssued.model_fields)
        assert orjson.dumps(payload, option=orjson.OPT_UTC_Z) == as_model.model_dump_json().encode()
        envelope = json.loads(outbound.recommendation_issued(rec, unit).value)
        assert envelope["data"] == json.loads(as_model.model_dump_json())
        wire.RecommendationIssuedEvent.model_validate(envelope)


async def test_an_issued_message_is_exactly_what_the_general_cloudevent_path_makes(examples):
    """`recommendation_issued` is the general `cloudevent` path with the issue's source, key, time
    and payload: the same topic, key, id, headers and bytes."""
    from tindaklanjut.events import recommendation as wire

    h = await ingested_harness(examples)
    recs = list(h.uow.recommendations.rows.values())
    assert len(recs) > 5
    for rec in recs:
        unit = h.uow.directory.units[rec.unit_id]
        direct = outbound.recommendation_issued(rec, unit)
        general = outbound.cloudevent(event_type=wire.EVENT_TYPE, source=outbound.SOURCE, key=unit.id,
                                      data=outbound.issued_payload(rec, unit), at=rec.issued_at,
                                      event_id=direct.event_id)
        assert direct == general
        assert (direct.topic, direct.key) == ("recommendation.issued", rec.unit_id)
