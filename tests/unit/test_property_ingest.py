"""Property: whatever is interleaved, every valid event is processed and every
invalid one dead-lettered; nothing is lost, nothing crashes."""

from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from tindaklanjut.domain.frameworks import load_frameworks
from tindaklanjut.domain.policy import load_policy
from tindaklanjut.service_layer.handlers import ingest_assessments
from tindaklanjut.ports.messages import IngestAssessment, Origin
from tindaklanjut.service_layer.outbound import DEAD_LETTER_VALUE_MAX

from tests.strategies import interleaved
from tests.unit.fakes import FakeUnitOfWork

CATALOGUE, POLICY = load_frameworks(), load_policy()


@settings(max_examples=150, deadline=None)
@given(messages=interleaved(), batch_size=st.integers(1, 10))
async def test_valid_events_processed_invalid_dead_lettered(messages, batch_size):
    uow = FakeUnitOfWork()
    commands = [IngestAssessment(raw=raw, origin=Origin(topic="assessment.published", offset=i))
                for i, (_, raw) in enumerate(messages)]
    totals = {"processed": 0, "dead": 0}
    for start in range(0, len(commands), batch_size):
        report = await ingest_assessments(commands[start:start + batch_size], uow=uow, catalogue=CATALOGUE,
                                          policy=POLICY, clock=lambda: datetime(2025, 1, 6, tzinfo=timezone.utc))
        totals["processed"] += report.processed
        totals["dead"] += report.dead_lettered
    valid = sum(1 for ok, _ in messages if ok)
    assert totals == {"processed": valid, "dead": len(messages) - valid}
    assert len(uow.assessments.rows) == valid
    assert sorted(row["offset"] for row in uow.dead_letters.rows) == [
        i for i, (ok, _) in enumerate(messages) if not ok]
    dead_messages = [m for m in uow.outbox.messages if m.topic == "deadletter"]
    # The original bytes, cut only where they would not fit the broker (the database keeps them whole).
    assert [m.value for m in dead_messages] == [raw[:DEAD_LETTER_VALUE_MAX] for ok, raw in messages if not ok]
    assert [row["raw"] for row in uow.dead_letters.rows] == [raw for ok, raw in messages if not ok]
