"""The ingest path against real databases (SQLite and PostgreSQL)."""

import json
from datetime import datetime, timezone

from sqlalchemy import func, select

from tindaklanjut import views
from tindaklanjut.adapters import orm
from tindaklanjut.bootstrap import bootstrap
from tindaklanjut.ports.messages import IngestAssessment, Origin

NOW = datetime(2024, 12, 21, 1, 0, tzinfo=timezone.utc)


def _commands(*documents):
    return [IngestAssessment(raw=d if isinstance(d, bytes) else json.dumps(d).encode(),
                             origin=Origin(topic="assessment.published", partition=0, offset=i))
            for i, d in enumerate(documents)]


async def _count(container, table) -> int:
    async with container.sessions() as session:
        return await session.scalar(select(func.count()).select_from(table))


async def test_examples_are_stored_with_recommendations_and_outbox_in_one_go(settings, examples):
    container = bootstrap(settings, clock=lambda: NOW)
    try:
        report = await container.ingest(_commands(*examples.values()))
        assert (report.processed, report.recommendations) == (3, 8)
        rows = await views.recommendations(container.sessions)
        assert sorted((r["unit_id"], r["indicator_code"]) for r in rows) == [
            ("15.71/disdukcapil", "input.kompetensi.standar_pelayanan"),
            ("15.71/disdukcapil", "input.sarpras.kelompok_rentan"),
            ("15.71/disdukcapil", "pengaduan.pengelola"),
            ("15.71/disdukcapil", "proses.sp.jangka_waktu"),
            ("15.71/dpmptsp", "pengaduan.tindak_lanjut"),
            ("15/dinsos", "I.8"), ("15/dinsos", "III.4"), ("15/dinsos", "V.4")]
        dinsos = next(r for r in rows if r["indicator_code"] == "I.8")
        assert dinsos["due_date"] == "2025-02-18" and dinsos["due_at"] == "2025-02-18T16:59:00+00:00"
        assert await _count(container, orm.OutboxRow) == 8
        assessments = await views.assessments(container.sessions)
        assert [(a["unit_id"], a["computed_grade"], a["grade_mismatch"]) for a in assessments] == [
            ("15.71/disdukcapil", "C", False), ("15.71/dpmptsp", "A", False), ("15/dinsos", "B", False)]
    finally:
        await container.close()


async def test_redelivery_and_replay_create_nothing(settings, examples):
    container = bootstrap(settings, clock=lambda: NOW)
    try:
        await container.ingest(_commands(*examples.values()))
        report = await container.ingest(_commands(*examples.values()))
        assert (report.processed, report.duplicates) == (0, 3)
        assert await _count(container, orm.RecommendationRow) == 8
        assert await _count(container, orm.OutboxRow) == 8
        async with container.sessions() as session:
            redeliveries = await session.scalar(select(func.sum(orm.ProcessedEventRow.redeliveries)))
        assert redeliveries == 3
    finally:
        await container.close()


async def test_dead_letters_are_stored_and_queued_with_the_original_bytes(settings, examples):
    container = bootstrap(settings, clock=lambda: NOW)
    try:
        report = await container.ingest(_commands(b"\x00garbage", examples["ombudsman-2024-kota-jambi-dpmptsp"]))
        assert (report.dead_lettered, report.processed) == (1, 1)
        letters = await views.dead_letters(container.sessions)
        assert [(d["reason_code"], d["offset"], d["size"]) for d in letters] == [("malformed_json", 0, 8)]
        async with container.sessions() as session:
            queued = (await session.scalars(select(orm.OutboxRow).where(orm.OutboxRow.topic == "deadletter"))).all()
        assert [row.value for row in queued] == [b"\x00garbage"]
    finally:
        await container.close()


async def test_grade_mismatch_is_recorded_and_official_grade_kept(settings, examples):
    container = bootstrap(settings, clock=lambda: NOW)
    document = examples["ombudsman-2024-kota-jambi-dpmptsp"]
    document["data"]["grade"] = "B"      # 91.86 is an A on the 2022-2024 scale
    try:
        await container.ingest(_commands(document))
        [row] = await views.assessments(container.sessions)
        assert (row["official_grade"], row["computed_grade"], row["grade_mismatch"]) == ("B", "A", True)
    finally:
        await container.close()


async def test_next_cycle_links_open_recommendations_of_the_same_indicator(settings, examples):
    container = bootstrap(settings, clock=lambda: NOW)
    first = examples["pekppp-2024-prov-jambi-dinsos"]
    following = json.loads(json.dumps(first))
    following["id"] = "pekppp-2025-dinsos"
    following["data"].update(assessment_id="PEKPPP-2025-15-DINSOS", cycle="2025",
                             published_at="2025-12-19T09:00:00+07:00")
    following["data"]["aspects"][2]["indicators"][0]["score"] = 4      # III.4 fixed in 2025
    try:
        await container.ingest(_commands(first))
        await container.ingest(_commands(following))
        rows = await views.recommendations(container.sessions)
        old = {r["indicator_code"]: r for r in rows if r["cycle"] == "2024"}
        new = {r["indicator_code"]: r for r in rows if r["cycle"] == "2025"}
        assert sorted(new) == ["I.8", "V.4"]
        assert new["I.8"]["carried_over_from"] == old["I.8"]["id"]
        assert new["V.4"]["carried_over_from"] == old["V.4"]["id"]
        assert new["I.8"]["id"] != old["I.8"]["id"]
        assert {r["status"] for r in old.values()} == {"open"}   # they lapse when the cycle closes
    finally:
        await container.close()
