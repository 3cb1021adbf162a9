"""What ingestion writes down besides recommendations, field by field: the processed-event
rows, the stored assessment and its payload, the dead letters with their outbox message and log
line, the CloudEvents id used to correlate logs, and batch reports that add up."""

from __future__ import annotations

import json

from structlog.testing import capture_logs

from tindaklanjut.service_layer.handlers import IngestReport, cloudevent_id
from tindaklanjut.service_layer.outbound import DEAD_LETTER_TOPIC

from tests.unit.fakes import FakeUnitOfWork
from tests.unit.test_handlers import NOW, _ingest

DISDUKCAPIL = "ombudsman-2024-kota-jambi-disdukcapil"


async def test_a_stored_event_is_recorded_with_its_type_time_and_payload(examples):
    uow = FakeUnitOfWork()
    document = examples[DISDUKCAPIL]
    await _ingest(uow, document)
    assert uow.processed.rows[(document["source"], document["id"])] == {
        "event_type": document["type"], "outcome": "processed", "at": NOW, "redeliveries": 0}
    data = document["data"]
    (key, assessment), = uow.assessments.rows.items()
    assert key == (data["assessment_id"], data["revision"])
    assert (assessment.unit_id, assessment.agency_id, assessment.score) == (
        data["unit"]["id"], data["unit"]["agency"]["id"], data["score"])
    assert assessment.published_at.isoformat() == data["published_at"]
    payload = uow.assessments.payloads[key]
    assert json.loads(json.dumps(payload)) == payload            # stored as JSON, dates as text
    assert payload["unit"]["id"] == data["unit"]["id"] and isinstance(payload["published_at"], str)


async def test_redeliveries_and_older_revisions_are_logged_with_what_identifies_them(examples):
    uow = FakeUnitOfWork()
    document = examples[DISDUKCAPIL]
    newer = json.loads(json.dumps(document))
    newer["id"], newer["data"]["revision"] = "revision-2", 2
    await _ingest(uow, newer)
    older = dict(document, id="late-revision-1")
    with capture_logs() as logs:
        report = await _ingest(uow, newer, older)
    assert (report.duplicates, report.processed) == (2, 0)
    redelivered, late = [e for e in logs if e["event"] in ("assessment.redelivered", "assessment.older_revision")]
    assert (redelivered["ce_id"], redelivered["ce_source"]) == ("revision-2", document["source"])
    assert {k: late[k] for k in ("ce_id", "ce_source", "assessment", "revision", "latest")} == {
        "ce_id": "late-revision-1", "ce_source": document["source"],
        "assessment": document["data"]["assessment_id"], "revision": 1, "latest": 2}
    assert uow.processed.rows[(document["source"], "late-revision-1")] == {
        "event_type": document["type"], "outcome": "duplicate_revision", "at": NOW, "redeliveries": 0}


async def test_a_dead_letter_keeps_reason_bytes_and_time_and_is_queued_for_its_topic(examples):
    uow = FakeUnitOfWork()
    bad = examples[DISDUKCAPIL] | {"specversion": "0.3", "id": "bad-1"}
    raw = json.dumps(bad).encode()
    with capture_logs() as logs:
        report = await _ingest(uow, raw)
    assert report.dead_lettered == 1
    (row,) = uow.dead_letters.rows
    assert (row["topic"], row["offset"], row["raw"], row["at"]) == ("assessment.published", 0, raw, NOW)
    assert row["reason_code"] and row["reason"] and isinstance(row["errors"], list)
    (line,) = [e for e in logs if e["event"] == "message.dead_lettered"]
    assert (line["topic"], line["code"], line["reason"], line["offset"], line["ce_id"]) == (
        "assessment.published", row["reason_code"], row["reason"], 0, "bad-1")
    (queued,) = [m for m in uow.outbox.messages if m.topic == DEAD_LETTER_TOPIC]
    assert (queued.value, queued.event_id) == (raw, row["sha256"])


def test_the_cloudevents_id_comes_from_the_header_or_the_body_and_is_bounded():
    assert cloudevent_id(b"{}", (("ce_type", b"x"), ("ce_id", b"abc"))) == "abc"
    assert cloudevent_id(b"{}", (("ce_id", b"\xff" + b"a" * 300),)) == "\ufffd" + "a" * 199
    assert cloudevent_id(json.dumps({"id": "e" * 300}).encode()) == "e" * 200
    assert cloudevent_id(json.dumps({"id": 42}).encode()) == "42"
    assert cloudevent_id(json.dumps({"id": ["x"]}).encode()) is None
    assert cloudevent_id(b"[1, 2]") is None and cloudevent_id(b"not json") is None


def test_batch_reports_add_up_field_by_field():
    first = IngestReport(processed=2, duplicates=1, dead_lettered=3, recommendations=8, stored=["a", "b"])
    second = IngestReport(processed=5, duplicates=7, dead_lettered=11, recommendations=13, stored=["c"])
    assert first.add(second) == IngestReport(processed=7, duplicates=8, dead_lettered=14, recommendations=21,
                                             stored=["a", "b", "c"])
