"""Nothing halts: poison inputs and failing messages are dead-lettered with
their reason, outages are retried, and the valid messages around them are
processed, on both databases."""

import copy
import json
import sqlite3
import uuid
from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from tindaklanjut.adapters import orm
from tindaklanjut.bootstrap import bootstrap
from tindaklanjut.domain import recommender
from tindaklanjut.service_layer import handlers
from tindaklanjut.ports.messages import IngestAssessment, Origin

from tests.strategies import POISONS


def _fresh(document: dict) -> dict:
    document = copy.deepcopy(document)
    document["id"] = str(uuid.uuid4())
    document["data"]["assessment_id"] += f"-{uuid.uuid4().hex[:6]}"
    return document


def _commands(raws: list[bytes]) -> list[IngestAssessment]:
    return [IngestAssessment(raw=raw, origin=Origin(topic="assessment.published", offset=i))
            for i, raw in enumerate(raws)]


async def _dead_letters(container) -> list[tuple[int, str]]:
    async with container.sessions() as session:
        return sorted((await session.execute(select(orm.DeadLetterRow.offset, orm.DeadLetterRow.reason_code))).all())


async def _count(container, table) -> int:
    async with container.sessions() as session:
        return await session.scalar(select(func.count()).select_from(table))


async def test_every_poison_interleaved_with_valid_events_is_dead_lettered(settings, examples):
    valid = list(examples.values())
    raws, expected_dead = [], []
    for index, (code, make) in enumerate(POISONS):
        raws.append(json.dumps(_fresh(valid[index % 3])).encode())
        expected_dead.append((len(raws), code))
        raws.append(make(_fresh(valid[index % 3])).encode())
    container = bootstrap(settings)
    try:
        report = await container.ingest(_commands(raws))
        assert (report.processed, report.dead_lettered) == (len(POISONS), len(POISONS))
        assert await _dead_letters(container) == expected_dead
        assert await _count(container, orm.AssessmentRow) == len(POISONS)
        # The whole bytes are kept in the database, even past the broker's limit.
        async with container.sessions() as session:
            sizes = (await session.scalars(select(func.length(orm.DeadLetterRow.raw)))).all()
        assert max(sizes) > settings.max_message_bytes
    finally:
        await container.close()


async def test_a_message_that_keeps_failing_is_isolated_and_the_rest_flow_on(settings, examples, monkeypatch):
    documents = [_fresh(d) for d in examples.values()] * 1
    doomed = documents[1]["data"]["assessment_id"]
    calls = {"doomed": 0}
    original = recommender.recommend

    def recommend(data, *args, **kwargs):
        if data.assessment_id == doomed:
            calls["doomed"] += 1
            raise KeyError("a defect met by this message only")
        return original(data, *args, **kwargs)

    monkeypatch.setattr(recommender, "recommend", recommend)
    container = bootstrap(settings)
    try:
        report = await container.ingest(_commands([json.dumps(d).encode() for d in documents]))
        assert (report.processed, report.dead_lettered) == (2, 1)
        assert calls["doomed"] == 1 + settings.poison_max_tries      # bounded: the batch, then alone
        dead = await _dead_letters(container)
        assert dead == [(1, "processing_failed")]
        async with container.sessions() as session:
            reason = await session.scalar(select(orm.DeadLetterRow.reason))
        assert "KeyError" in reason
        assert await _count(container, orm.RecommendationRow) == 8 - 1      # 4/1/3 without the doomed unit's
    finally:
        await container.close()


async def test_an_outage_is_retried_until_it_ends_and_nothing_is_dead_lettered(settings, examples, monkeypatch):
    real = handlers.ingest_assessments
    failures = {"left": 2}

    async def flaky(*args, **kwargs):
        if failures["left"]:
            failures["left"] -= 1
            raise OperationalError("SELECT 1", {}, sqlite3.OperationalError("database is locked"))
        return await real(*args, **kwargs)

    monkeypatch.setattr(handlers, "ingest_assessments", flaky)
    container = bootstrap(settings)
    try:
        report = await container.ingest(_commands([json.dumps(_fresh(d)).encode() for d in examples.values()]))
        assert (report.processed, report.dead_lettered, failures["left"]) == (3, 0, 0)
        assert await _dead_letters(container) == []
    finally:
        await container.close()


def _renamed_revision(first: dict, unit_name: str) -> dict:
    """Revision 2 of `first`, published later, naming its unit and agency anew."""
    second = copy.deepcopy(first)
    second["id"] = str(uuid.uuid4())
    second["data"]["revision"] = 2
    second["data"]["published_at"] = "2024-12-28T09:00:00+07:00"
    second["data"]["unit"]["name"] = unit_name
    second["data"]["unit"]["agency"]["name"] = "Pemerintah Provinsi Jambi (nama baru)"
    return second


async def test_a_redelivered_or_older_event_never_renames_the_directory(settings, examples):
    first = _fresh(examples["pekppp-2024-prov-jambi-dinsos"])
    second = _renamed_revision(first, "Dinas Sosial, Pemberdayaan Perempuan dan Perlindungan Anak")
    older_cycle = _fresh(first)
    older_cycle["data"]["cycle"] = "2023"
    older_cycle["data"]["published_at"] = "2023-12-01T09:00:00+07:00"
    older_cycle["data"]["unit"]["name"] = "Dinas Sosial (2023)"
    container = bootstrap(settings)
    try:
        await container.ingest(_commands([json.dumps(first).encode(), json.dumps(second).encode()]))
        # The old revision redelivered, then an older cycle's assessment published late.
        await container.ingest(_commands([json.dumps(first).encode(), json.dumps(older_cycle).encode()]))
        async with container.sessions() as session:
            unit = await session.get(orm.UnitRow, "15/dinsos")
            agency = await session.get(orm.AgencyRow, unit.agency_id)
        assert unit.name == second["data"]["unit"]["name"]
        assert agency.name == "Pemerintah Provinsi Jambi (nama baru)"
    finally:
        await container.close()


async def test_a_redelivered_dead_letter_is_kept_once(settings):
    container = bootstrap(settings)
    try:
        same = _commands([b'{"broken": ', b'{"broken": '])[:1] * 2          # one message, delivered twice
        first = await container.ingest(same[:1])
        again = await container.ingest(same)
        assert (first.dead_lettered, again.dead_lettered) == (1, 0)
        other_offset = IngestAssessment(raw=b'{"broken": ', origin=Origin(topic="assessment.published", offset=7))
        assert (await container.ingest([other_offset])).dead_lettered == 1     # same bytes, another message
        assert await _dead_letters(container) == [(0, "malformed_json"), (7, "malformed_json")]
        async with container.sessions() as session:
            outbox = await session.scalar(select(func.count()).select_from(orm.OutboxRow)
                                          .where(orm.OutboxRow.topic == "deadletter"))
        assert outbox == 2
    finally:
        await container.close()


async def test_fresh_news_in_a_later_batch_renames_the_stored_unit_and_agency(settings, examples):
    first = _fresh(examples["pekppp-2024-prov-jambi-dinsos"])
    second = _renamed_revision(first, "Dinas Sosial P3A")
    container = bootstrap(settings)
    try:
        await container.ingest(_commands([json.dumps(first).encode()]))
        await container.ingest(_commands([json.dumps(second).encode()]))
        async with container.sessions() as session:
            unit = await session.get(orm.UnitRow, "15/dinsos")
            agency = await session.get(orm.AgencyRow, unit.agency_id)
        assert (unit.name, agency.name, agency.region_code) == (
            "Dinas Sosial P3A", "Pemerintah Provinsi Jambi (nama baru)", "15")
        assert unit.source_published_at == datetime(2024, 12, 28, 2, 0, tzinfo=timezone.utc)
        assert agency.source_published_at == unit.source_published_at
    finally:
        await container.close()


async def _ingest_ahead_and_check_each_announced_once(container, examples) -> None:
    """The contract examples, as fresh messages prepared ahead (as the consumer does), ingested as
    one batch: all three processed, none dead-lettered, and each of the 8 recommendations stored
    and announced exactly once."""
    prepared = await container.prepare_ahead(_commands([json.dumps(_fresh(d)).encode() for d in examples.values()]))
    assert all(message.prepared is not None for message in prepared)
    report = await container.ingest(prepared)
    assert (report.processed, report.dead_lettered) == (3, 0)
    async with container.sessions() as session:
        issued = list((await session.scalars(select(orm.OutboxRow.event_id).where(
            orm.OutboxRow.topic == "recommendation.issued"))).all())
    assert len(issued) == len(set(issued)) == await _count(container, orm.RecommendationRow) == 8


async def test_a_prepared_batch_whose_commit_fails_is_retried_from_fresh_recommendations(settings, examples,
                                                                                          monkeypatch):
    """Prepared ahead (as the consumer does), then the batch's commit fails once for a reason that
    is not an outage: its messages are tried again one by one, prepared afresh (the failed try
    had already taken the recorded events of the first preparation), and every recommendation
    still gets its `recommendation.issued` message, once."""
    from tindaklanjut.sql_unit_of_work import SqlUnitOfWork

    real = SqlUnitOfWork._commit
    failures = {"left": 1}

    async def commit_failing_once(self):
        if failures["left"]:
            failures["left"] -= 1
            raise ValueError("a defect met once")
        await real(self)

    monkeypatch.setattr(SqlUnitOfWork, "_commit", commit_failing_once)
    container = bootstrap(settings)
    try:
        await _ingest_ahead_and_check_each_announced_once(container, examples)
        assert failures["left"] == 0
    finally:
        await container.close()


async def test_a_state_write_that_fails_while_the_messages_are_built_is_retried_and_nothing_doubles(
        settings, examples, monkeypatch):
    """The batch's rows are written while its outbox messages are built (`write_while`). When that
    write fails (not an outage), the error still reaches the batch: it is rolled back, its
    messages are tried again one by one, and each recommendation is stored and announced once."""
    from tindaklanjut.sql_unit_of_work import SqlUnitOfWork

    real = SqlUnitOfWork._write_new_state
    failures = {"left": 1, "built_meanwhile": 0}

    async def write_failing_once(self):
        if failures["left"]:
            failures["left"] -= 1
            await real(self)           # rows sent, then the write fails
            failures["built_meanwhile"] = self.outbox.added
            raise ValueError("a defect met once, in the middle of the write")
        await real(self)

    monkeypatch.setattr(SqlUnitOfWork, "_write_new_state", write_failing_once)
    container = bootstrap(settings)
    try:
        await _ingest_ahead_and_check_each_announced_once(container, examples)
        assert failures["left"] == 0
        assert failures["built_meanwhile"] == 8         # the messages were built while the write ran
        assert await _count(container, orm.ProcessedEventRow) == 3
    finally:
        await container.close()


async def test_preparing_ahead_changes_nothing_that_is_stored(settings, examples):
    documents = [json.dumps(_fresh(d)).encode() for d in examples.values()]
    at = datetime(2024, 12, 21, 1, 0, tzinfo=timezone.utc)
    stored = []
    for ahead in (False, True):
        container = bootstrap(settings, clock=lambda: at)
        try:
            messages = _commands(documents)
            await container.ingest(await container.prepare_ahead(messages) if ahead else messages)
            async with container.sessions() as session:
                stored.append((sorted((await session.execute(select(
                    orm.RecommendationRow.id, orm.RecommendationRow.due_at, orm.RecommendationRow.action))).all()),
                    sorted((await session.scalars(select(orm.OutboxRow.value))).all())))
                await session.execute(orm.OutboxRow.__table__.delete())
                for table in (orm.RecommendationRow, orm.ProcessedEventRow, orm.AssessmentRow):
                    await session.execute(table.__table__.delete())
                await session.commit()
        finally:
            await container.close()
    assert stored[0] == stored[1] and len(stored[0][0]) == 8
