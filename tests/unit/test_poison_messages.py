"""Messages that cannot be processed, on the bus with fakes: a message whose
handling fails for a reason other than an outage is tried a bounded number of
times, then dead-lettered with the error as its reason, its key, headers and
bytes, while the rest of its batch is stored; binary-mode CloudEvents and the
configured limits reach the parser; older news never rewrites the directory."""

from __future__ import annotations

import json

from structlog.testing import capture_logs

from tindaklanjut.events.wire import Limits
from tindaklanjut.ports.messages import IngestAssessment, Origin
from tindaklanjut.service_layer import commands
from tindaklanjut.service_layer.outbound import DEAD_LETTER_TOPIC, DLQ_REASON_HEADER

from tests.unit.fakes import FakeDirectory
from tests.unit.test_command_handlers import Harness

DISDUKCAPIL = "ombudsman-2024-kota-jambi-disdukcapil"
DINSOS = "pekppp-2024-prov-jambi-dinsos"


class PoisonedDirectory(FakeDirectory):
    """Fails (not an outage) whenever one unit is written: a defect only that message triggers."""

    def __init__(self, poisoned_unit: str):
        super().__init__()
        self.poisoned_unit = poisoned_unit

    async def upsert_unit(self, unit, published_at):
        if unit.id == self.poisoned_unit:
            raise ValueError(f"tidak bisa menyimpan {unit.id}")
        await super().upsert_unit(unit, published_at)


def message(document, offset: int, *, key: bytes | None = None, headers=()) -> IngestAssessment:
    raw = document if isinstance(document, bytes) else json.dumps(document).encode()
    return IngestAssessment(raw=raw, origin=Origin(topic="assessment.published", partition=2, offset=offset),
                            key=key, headers=tuple(headers))


def dead_letters(h: Harness):
    return [m for m in h.uow.outbox.messages if m.topic == DEAD_LETTER_TOPIC]


async def test_a_message_that_keeps_failing_is_dead_lettered_after_three_tries_and_the_rest_is_stored(examples):
    h = Harness()
    poisoned = examples[DISDUKCAPIL]
    h.uow.directory = PoisonedDirectory(poisoned["data"]["unit"]["id"])
    batch = (message(examples[DINSOS], 10), message(poisoned, 11, key=b"15.71/disdukcapil",
                                                    headers=[("traceparent", b"00-abc")]))
    with capture_logs() as logs:
        report = await h.handle(commands.IngestAssessments(messages=batch))
    assert (report.processed, report.dead_lettered) == (1, 1)
    assert [e["event"] for e in logs if e["event"].startswith("assessments.ingest.")] == [
        "assessments.ingest.batch_failed"] + ["assessments.ingest.message_failed"] * 3
    (row,) = h.uow.dead_letters.rows
    assert (row["topic"], row["partition"], row["offset"], row["reason_code"], row["at"]) == (
        "assessment.published", 2, 11, "processing_failed", h.now)
    assert row["reason"] == "ValueError: tidak bisa menyimpan 15.71/disdukcapil"
    assert row["raw"] == batch[1].raw
    (queued,) = dead_letters(h)
    assert (queued.key, queued.value) == ("15.71/disdukcapil", batch[1].raw)
    assert ("traceparent", "00-abc") in queued.headers
    assert json.loads(dict(queued.headers)[DLQ_REASON_HEADER])["code"] == "processing_failed"
    assert (poisoned["source"], poisoned["id"]) not in h.uow.processed.rows
    assert (examples[DINSOS]["source"], examples[DINSOS]["id"]) in h.uow.processed.rows


async def test_the_number_of_tries_is_the_configured_one(examples):
    h = Harness()
    h.uow.directory = PoisonedDirectory(examples[DISDUKCAPIL]["data"]["unit"]["id"])
    bus = h.bus_with(poison_max_tries=5)
    with capture_logs() as logs:
        report = await bus.handle(commands.IngestAssessments(messages=(message(examples[DISDUKCAPIL], 0),)))
    assert report.dead_lettered == 1
    # A batch of one: its first failure counts as the first try.
    assert [e["tries"] for e in logs if e["event"] == "assessments.ingest.message_failed"] == [2, 3, 4, 5]


async def test_a_refused_message_keeps_its_key_and_headers_on_the_dead_letter_topic(examples):
    h = Harness()
    bad = examples[DISDUKCAPIL] | {"specversion": "0.3", "id": "bad-é"}
    report = await h.handle(commands.IngestAssessments(messages=(
        message(bad, 4, key=b"\xff15.71", headers=[("x-asal", b"kota\xff"), ("tindaklanjut-dlq-code", b"lama")]),)))
    assert report.dead_lettered == 1
    (queued,) = dead_letters(h)
    assert queued.key == "\ufffd15.71"
    assert queued.headers[0] == ("x-asal", "kota\ufffd")
    names = [name for name, _ in queued.headers]
    assert names.count("tindaklanjut-dlq-code") == 1          # a dead letter's own headers are replaced, not doubled
    reason = dict(queued.headers)[DLQ_REASON_HEADER]
    assert reason == json.dumps(json.loads(reason), ensure_ascii=False)   # readable text, not \\u escapes
    assert json.loads(reason)["partition"] == 2 and json.loads(reason)["offset"] == 4


async def test_a_binary_mode_cloudevent_is_read_from_its_headers(examples):
    h = Harness()
    document = examples[DISDUKCAPIL]
    headers = [(f"ce_{name}", str(value).encode()) for name, value in document.items()
               if name not in ("data", "datacontenttype")] + [("content-type", b"application/json")]
    report = await h.handle(commands.IngestAssessments(messages=(message(document["data"], 0, headers=headers),)))
    assert (report.processed, report.dead_lettered) == (1, 0)
    assert h.uow.processed.rows[(document["source"], document["id"])]["outcome"] == "processed"


async def test_the_configured_limits_reach_the_parser(examples):
    h = Harness()
    bus = h.bus_with(limits=Limits(max_bytes=1000))
    report = await bus.handle(commands.IngestAssessments(messages=(message(examples[DISDUKCAPIL], 0),)))
    assert report.dead_lettered == 1
    assert h.uow.dead_letters.rows[0]["reason_code"] == "too_large"


def renamed(document, *, event_id: str, revision: int, published_at: str, name: str) -> dict:
    changed = json.loads(json.dumps(document))
    changed["id"] = event_id
    changed["data"].update(revision=revision, published_at=published_at)
    changed["data"]["unit"]["name"] = name
    return changed


async def test_only_fresh_news_renames_a_unit(examples):
    h = Harness()
    first = examples[DISDUKCAPIL]
    unit_id = first["data"]["unit"]["id"]
    await h.handle(commands.IngestAssessments(messages=(message(first, 0),)))
    original = h.uow.directory.units[unit_id].name
    later = "2030-01-01T00:00:00+07:00"
    stale = [
        # the same event id again, even with a higher revision and a newer body
        renamed(first, event_id=first["id"], revision=5, published_at=later, name="Dinas Baru A"),
        # the same revision under another id
        renamed(first, event_id="again-1", revision=1, published_at=later, name="Dinas Baru B"),
    ]
    for offset, document in enumerate(stale, start=1):
        await h.handle(commands.IngestAssessments(messages=(message(document, offset),)))
        assert h.uow.directory.units[unit_id].name == original, document["id"]
    fresh = renamed(first, event_id="revision-2", revision=2, published_at=later, name="Dinas Baru C")
    await h.handle(commands.IngestAssessments(messages=(message(fresh, 9),)))
    assert h.uow.directory.units[unit_id].name == "Dinas Baru C"
    older = renamed(first, event_id="late-1", revision=1, published_at="2031-01-01T00:00:00+07:00", name="Lama")
    await h.handle(commands.IngestAssessments(messages=(message(older, 10),)))
    assert h.uow.directory.units[unit_id].name == "Dinas Baru C"


async def test_a_batch_reads_what_it_needs_up_front(examples):
    h = Harness()
    documents = list(examples.values())
    await h.handle(commands.IngestAssessments(messages=tuple(message(d, i) for i, d in enumerate(documents))))
    assert h.uow.processed.preloaded == {(d["source"], d["id"]) for d in documents}
    assert h.uow.assessments.preloaded == {d["data"]["assessment_id"] for d in documents}
    assert h.uow.recommendations.preloaded_units == {d["data"]["unit"]["id"] for d in documents}
