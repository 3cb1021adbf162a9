"""Two workers meeting the same new agency and unit: the batch that writes second finds the rows
already there (it read before the other committed). It must neither fail (a failed batch goes
message by message) nor overwrite newer news with older."""

from datetime import datetime, timezone

import pytest
from sqlalchemy import insert, select

from tindaklanjut.adapters import orm
from tindaklanjut.adapters.database import create_engine, session_factory
from tindaklanjut.adapters.migrate import upgrade_async
from tindaklanjut.adapters.repository import SqlDirectory
from tindaklanjut.events.assessment import Agency, AgencyKind, Unit

OLDER, MIDDLE, NEWER = (datetime(2024, 12, day, 9, tzinfo=timezone.utc) for day in (2, 9, 16))


@pytest.fixture
async def sessions(database_url):
    await upgrade_async(database_url)
    engine = create_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()


async def _other_worker_wrote(sessions, *, agency_at: datetime, unit_at: datetime) -> None:
    async with sessions() as session, session.begin():
        await session.execute(insert(orm.AgencyRow.__table__).values(
            id="15.71", name="Pemkot Jambi (lama)", kind="pemkot", region_code="15.71", source_published_at=agency_at))
        await session.execute(insert(orm.UnitRow.__table__).values(
            id="15.71/dpmptsp", name="DPMPTSP (lama)", agency_id="15.71", region_code="15.71",
            source_published_at=unit_at))


async def _this_batch_writes(sessions, monkeypatch, published_at: datetime, read: dict | None = None) -> None:
    """This batch's directory write, after a read (`read`, by id; nothing by default) made before
    the other worker committed."""
    read = read or {}

    async def read_before_the_other_committed(self, table, ids):
        return {key: read[key] for key in ids if key in read}
    monkeypatch.setattr(SqlDirectory, "_stored", read_before_the_other_committed)
    unit = Unit(id="15.71/dpmptsp", name="DPMPTSP Kota Jambi", region_code="15.71",
                agency=Agency(id="15.71", name="Pemerintah Kota Jambi", kind=AgencyKind.PEMKOT))
    async with sessions() as session:
        await SqlDirectory(session).preload([(unit, published_at)])
        await session.commit()


async def _names(sessions) -> tuple[str, str]:
    async with sessions() as session:
        agency = await session.scalar(select(orm.AgencyRow.name).where(orm.AgencyRow.id == "15.71"))
        unit = await session.scalar(select(orm.UnitRow.name).where(orm.UnitRow.id == "15.71/dpmptsp"))
    return agency, unit


async def test_newer_news_replaces_what_another_worker_wrote_meanwhile(sessions, monkeypatch):
    await _other_worker_wrote(sessions, agency_at=OLDER, unit_at=OLDER)
    await _this_batch_writes(sessions, monkeypatch, MIDDLE)
    assert await _names(sessions) == ("Pemerintah Kota Jambi", "DPMPTSP Kota Jambi")


async def test_older_news_leaves_what_another_worker_wrote_meanwhile(sessions, monkeypatch):
    await _other_worker_wrote(sessions, agency_at=NEWER, unit_at=NEWER)
    await _this_batch_writes(sessions, monkeypatch, MIDDLE)
    assert await _names(sessions) == ("Pemkot Jambi (lama)", "DPMPTSP (lama)")


async def test_a_change_read_before_another_workers_newer_one_does_not_undo_it(sessions, monkeypatch):
    await _other_worker_wrote(sessions, agency_at=NEWER, unit_at=NEWER)
    stale = {"15.71": dict(id="15.71", name="Pemkot Jambi (lama)", kind="pemkot", region_code="15.71",
                           source_published_at=OLDER),
             "15.71/dpmptsp": dict(id="15.71/dpmptsp", name="DPMPTSP (lama)", agency_id="15.71",
                                   region_code="15.71", source_published_at=OLDER)}
    await _this_batch_writes(sessions, monkeypatch, MIDDLE, read=stale)
    assert await _names(sessions) == ("Pemkot Jambi (lama)", "DPMPTSP (lama)")
