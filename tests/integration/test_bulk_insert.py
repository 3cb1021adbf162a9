"""Rows written through the driver (`adapters.bulk`) are stored exactly as SQLAlchemy's own types
store them, on SQLite and PostgreSQL: same text for timestamps and dates on SQLite, same values on
PostgreSQL, and they read back the same through the ORM."""

import asyncio
from datetime import date, datetime, timedelta, timezone

import pytest
from alembic import command
from sqlalchemy import insert, select, text

from tindaklanjut.adapters import bulk, orm
from tindaklanjut.adapters.database import create_engine, session_factory
from tindaklanjut.adapters.migrate import alembic_config, upgrade_async

WIB = timezone(timedelta(hours=7))


def _assessment(assessment_id: str, **overrides) -> dict:
    row = dict(assessment_id=assessment_id, revision=1, framework="ombudsman-kepatuhan", cycle="2024",
               unit_id="15.71/dinsos", agency_id="15.71", score=71.5, official_grade=None, computed_grade="C",
               grade_mismatch=True, published_at=datetime(2024, 12, 3, 10, 1, tzinfo=WIB),
               follow_up_until=date(2025, 6, 30), source="urn:x", event_id=f"e-{assessment_id}",
               payload={"catatan": "Pelayanan \u201cbaik\u201d", "angka": [1, 2.5, None]},
               received_at=datetime(2024, 12, 21, 1, 0, 0, 123456, tzinfo=timezone.utc))
    return row | overrides


async def test_bulk_rows_are_stored_as_the_orm_stores_them(database_url):
    await upgrade_async(database_url)
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    table = orm.AssessmentRow.__table__
    try:
        async with sessions() as session, session.begin():
            await session.execute(insert(orm.AgencyRow.__table__), [dict(id="15.71", name="Pemkot Jambi",
                                                                         kind="pemkot", region_code="15.71")])
            await session.execute(insert(orm.UnitRow.__table__), [dict(id="15.71/dinsos", name="Dinas Sosial",
                                                                       agency_id="15.71", region_code="15.71")])
            await session.execute(insert(table), [_assessment("by-orm")])
            await bulk.insert_rows(session, table, [_assessment("by-driver"),
                                                    _assessment("raw-json", payload=bulk.RawJSON('{"a": [1]}'),
                                                                official_grade="C", grade_mismatch=False)])
        async with sessions() as session:
            stored = {row.assessment_id: row for row in await session.scalars(select(orm.AssessmentRow))}
            columns = ", ".join(c.name for c in table.columns if c.name not in ("assessment_id", "event_id", "payload"))
            raw = {row[0]: row[1:] for row in (await session.execute(text(
                f"SELECT assessment_id, {columns} FROM assessment ORDER BY assessment_id"))).all()}
    finally:
        await engine.dispose()
    assert raw["by-driver"] == raw["by-orm"]       # as stored: on SQLite the very text of times and dates
    assert isinstance(raw["by-orm"][columns.split(", ").index("received_at")], str if "sqlite" in database_url
                      else datetime)
    by_orm, by_driver = stored["by-orm"], stored["by-driver"]
    for name in ("published_at", "received_at", "follow_up_until", "grade_mismatch", "payload", "score"):
        assert getattr(by_driver, name) == getattr(by_orm, name), name
    assert by_driver.published_at == datetime(2024, 12, 3, 3, 1, tzinfo=timezone.utc)
    assert by_driver.received_at.microsecond == 123456
    assert stored["raw-json"].payload == {"a": [1]} and stored["raw-json"].official_grade == "C"
    assert stored["raw-json"].grade_mismatch is False


async def test_a_naive_timestamp_is_refused_as_the_orm_refuses_it(database_url):
    await upgrade_async(database_url)
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            with pytest.raises(ValueError, match="naive"):
                await bulk.insert_rows(session, orm.AssessmentRow.__table__,
                                       [_assessment("naive", received_at=datetime(2024, 12, 21, 1, 0))])
    finally:
        await engine.dispose()


async def test_large_values_are_compressed_with_lz4_on_postgresql_and_the_migration_goes_both_ways(database_url):
    await upgrade_async(database_url)
    engine = create_engine(database_url)
    query = text("SELECT attrelid::regclass::text, attname, attcompression::text FROM pg_attribute WHERE "
                 "(attrelid::regclass::text, attname) IN (('assessment', 'payload'), ('outbox', 'value'), "
                 "('dead_letter', 'raw')) ORDER BY 1")

    async def compression() -> list[tuple]:
        async with engine.connect() as connection:
            return [tuple(row) for row in (await connection.execute(query)).all()]
    try:
        if "sqlite" in database_url:
            return            # nothing to set; the upgrade above ran through
        assert await compression() == [("assessment", "payload", "l"), ("dead_letter", "raw", "l"),
                                       ("outbox", "value", "l")]
        config = alembic_config(database_url)
        await asyncio.to_thread(command.downgrade, config, "0008_list_index")
        assert {row[2] for row in await compression()} == {""}         # the server's default again
        await asyncio.to_thread(command.upgrade, config, "heads")
        assert {row[2] for row in await compression()} == {"l"}
    finally:
        await engine.dispose()
