"""The ingest handler against in-memory fakes: idempotency, dead letters, revisions."""

import copy
import json
from datetime import datetime, timezone

from tindaklanjut.domain.frameworks import load_frameworks
from tindaklanjut.domain.model import Status
from tindaklanjut.domain.policy import load_policy
from tindaklanjut.service_layer.handlers import ingest_assessments
from tindaklanjut.ports.messages import IngestAssessment, Origin
from tindaklanjut.service_layer.outbound import DLQ_REASON_HEADER

from tests.unit.fakes import FakeUnitOfWork

CATALOGUE = load_frameworks()
POLICY = load_policy()
NOW = datetime(2024, 12, 21, tzinfo=timezone.utc)


def _command(document, offset=0) -> IngestAssessment:
    raw = document if isinstance(document, bytes) else json.dumps(document).encode()
    return IngestAssessment(raw=raw, origin=Origin(topic="assessment.published", partition=0, offset=offset))


async def _ingest(uow, *documents):
    return await ingest_assessments([_command(d, i) for i, d in enumerate(documents)], uow=uow,
                                    catalogue=CATALOGUE, policy=POLICY, clock=lambda: NOW)


async def test_three_examples_issue_eight_recommendations_and_eight_outbox_messages(examples):
    uow = FakeUnitOfWork()
    report = await _ingest(uow, *examples.values())
    assert (report.processed, report.recommendations, report.dead_lettered) == (3, 8, 0)
    assert len(uow.recommendations.rows) == 8
    messages = uow.outbox.messages
    assert [m.topic for m in messages] == ["recommendation.issued"] * 8
    assert sorted({m.key for m in messages}) == ["15.71/disdukcapil", "15.71/dpmptsp", "15/dinsos"]
    body = json.loads(messages[0].value)
    assert body["type"] == "tindaklanjut.recommendation.issued.v1" and body["specversion"] == "1.0"
    assert body["data"]["status"] == "open" and body["data"]["agency"]["name"] == "Pemerintah Kota Jambi"


async def test_the_same_event_twice_creates_nothing_new(examples):
    uow = FakeUnitOfWork()
    document = examples["ombudsman-2024-kota-jambi-disdukcapil"]
    await _ingest(uow, document)
    report = await _ingest(uow, document, document)
    assert (report.processed, report.duplicates, report.recommendations) == (0, 2, 0)
    assert len(uow.recommendations.rows) == 4 and len(uow.outbox.messages) == 4
    key = (document["source"], document["id"])
    assert uow.processed.rows[key]["redeliveries"] == 2


async def test_a_duplicate_inside_one_batch_is_caught(examples):
    uow = FakeUnitOfWork()
    document = examples["ombudsman-2024-kota-jambi-dpmptsp"]
    report = await _ingest(uow, document, document)
    assert (report.processed, report.duplicates, len(uow.outbox.messages)) == (1, 1, 1)


async def test_invalid_events_are_dead_lettered_and_valid_ones_around_them_processed(examples):
    uow = FakeUnitOfWork()
    bad = examples["ombudsman-2024-kota-jambi-dpmptsp"] | {"specversion": "0.3"}
    report = await _ingest(uow, examples["ombudsman-2024-kota-jambi-disdukcapil"], b"not json", bad,
                           examples["pekppp-2024-prov-jambi-dinsos"])
    assert (report.processed, report.dead_lettered, report.recommendations) == (2, 2, 7)
    assert [r["reason_code"] for r in uow.dead_letters.rows] == ["malformed_json", "invalid_envelope"]
    dlq = [m for m in uow.outbox.messages if m.topic == "deadletter"]
    assert dlq[0].value == b"not json"
    reason = json.loads(dict(dlq[0].headers)[DLQ_REASON_HEADER])
    assert reason["code"] == "malformed_json" and reason["offset"] == 1


async def test_a_redelivered_invalid_message_is_dead_lettered_once():
    uow = FakeUnitOfWork()
    await _ingest(uow, b"{}")
    report = await _ingest(uow, b"{}")
    assert report.dead_lettered == 0 and len(uow.dead_letters.rows) == 1


async def test_a_higher_revision_keeps_ids_supersedes_and_issues(examples):
    uow = FakeUnitOfWork()
    first = examples["ombudsman-2024-kota-jambi-disdukcapil"]
    await _ingest(uow, first)
    ids_before = set(uow.recommendations.rows)
    revised = json.loads(json.dumps(first))
    revised["id"] = "revision-2"
    revised["data"]["revision"] = 2
    indicators = revised["data"]["aspects"][0]["indicators"]
    indicators[0]["score"] = 3      # kompetensi.standar_pelayanan fixed by the correction
    indicators[3]["score"] = 0      # ruang_tunggu newly weak
    report = await _ingest(uow, revised)
    assert report.recommendations == 1
    by_code = {r.indicator_code: r for r in uow.recommendations.rows.values()}
    assert by_code["input.kompetensi.standar_pelayanan"].status is Status.SUPERSEDED
    assert by_code["input.sarpras.ruang_tunggu"].status is Status.OPEN
    assert by_code["pengaduan.pengelola"].assessment_revision == 2
    assert ids_before <= set(uow.recommendations.rows)


async def test_an_equal_or_lower_revision_is_a_counted_duplicate(examples):
    uow = FakeUnitOfWork()
    first = examples["ombudsman-2024-kota-jambi-dpmptsp"]
    await _ingest(uow, first)
    republished = first | {"id": "another-event-id"}
    report = await _ingest(uow, republished)
    assert (report.duplicates, report.processed, report.recommendations) == (1, 0, 0)
    assert uow.processed.rows[(first["source"], "another-event-id")]["outcome"] == "duplicate_revision"


async def test_every_log_line_about_an_event_carries_its_cloudevents_id(examples):
    from structlog.testing import capture_logs

    uow = FakeUnitOfWork()
    good = examples["ombudsman-2024-kota-jambi-disdukcapil"]
    bad = examples["ombudsman-2024-kota-jambi-dpmptsp"] | {"specversion": "0.3"}
    with capture_logs() as logs:
        report = await _ingest(uow, good, bad, b"not json", good)
    by_event = {(entry["event"], entry.get("ce_id")) for entry in logs}
    assert report.stored == [good["id"]]             # the batch's log line names the stored events
    assert ("assessment.redelivered", good["id"]) in by_event
    assert ("message.dead_lettered", bad["id"]) in by_event
    assert ("message.dead_lettered", None) in by_event          # no id to read in "not json"


def _next_cycle(document: dict, *, weak_codes: set[str], event_id: str = "next-1", revision: int = 1) -> dict:
    """The same unit assessed a cycle later: `weak_codes` score 1 of 5, every other indicator 5."""
    following = copy.deepcopy(document)
    following["id"] = event_id
    data = following["data"]
    data.update(assessment_id=data["assessment_id"].replace("2024", "2025"), cycle="2025", revision=revision,
                published_at="2025-12-19T09:00:00+07:00")
    data.pop("follow_up_until", None)
    for aspect in data["aspects"]:
        for indicator in aspect["indicators"]:
            indicator["score"] = 1 if indicator["code"] in weak_codes else 5
            indicator.pop("finding", None)
    return following


async def test_a_next_cycle_carries_over_what_is_still_weak_and_records_its_scores_once(examples):
    uow = FakeUnitOfWork()
    dinsos = examples["pekppp-2024-prov-jambi-dinsos"]
    await _ingest(uow, dinsos)
    earlier = {r.indicator_code: r for r in uow.recommendations.rows.values()}
    weak_2024 = sorted(code for code in earlier if code)
    verified = weak_2024[1]
    uow.recommendations.rows[earlier[verified].id].status = Status.VERIFIED      # followed up in time
    never_weak = "I.1"
    await _ingest(uow, _next_cycle(dinsos, weak_codes={weak_2024[0], verified, never_weak}))
    issued_2025 = {r.indicator_code: r for r in uow.recommendations.rows.values() if r.cycle == "2025"}
    assert set(issued_2025) == {weak_2024[0], verified, never_weak}
    assert issued_2025[weak_2024[0]].carried_over_from == earlier[weak_2024[0]].id   # still open, still weak
    assert issued_2025[verified].carried_over_from is None                          # closed: not carried over
    assert issued_2025[never_weak].carried_over_from is None                        # new weakness
    first, (unit, cycle, assessment, ratios) = uow.recommendations.next_cycle_scores   # each cycle's first revision
    assert first[:3] == ("15/dinsos", "2024", "PEKPPP-2024-15-DINSOS")
    assert (unit, cycle, assessment) == ("15/dinsos", "2025", "PEKPPP-2025-15-DINSOS")
    assert ratios[weak_2024[0]] == 0.2 and ratios[never_weak] == 0.2 and ratios[weak_2024[2]] == 1.0
    # A revision of the next cycle's assessment is not a new score comparison.
    await _ingest(uow, _next_cycle(dinsos, weak_codes={never_weak}, event_id="next-2", revision=2))
    assert len(uow.recommendations.next_cycle_scores) == 2
