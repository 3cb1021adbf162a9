"""The seen-event lookup of an ingest batch (`SqlProcessedEvents.preload`): right answers for events
of several sources, in batches over one chunk, and on SQLite an index search, not a table scan
(a scan grows with every event ever processed); on PostgreSQL the ids go as one array parameter."""

from datetime import datetime, timezone

from sqlalchemy import event, insert

from tindaklanjut.adapters import orm
from tindaklanjut.adapters.database import create_engine, session_factory
from tindaklanjut.adapters.migrate import upgrade_async
from tindaklanjut.adapters.repository import SqlProcessedEvents

OMBUDSMAN, PANRB = "urn:evaluator:ombudsman-ri:perwakilan-jambi", "urn:evaluator:kemenpanrb:deputi-pelayanan-publik"
AT = datetime(2024, 12, 21, tzinfo=timezone.utc)


def _row(source: str, event_id: str) -> dict:
    return dict(source=source, event_id=event_id, event_type="tindaklanjut.assessment.published.v1",
                processed_at=AT, outcome="processed", redeliveries=0)


async def test_a_batch_of_several_sources_learns_exactly_which_events_were_processed(database_url):
    await upgrade_async(database_url)
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    stored = {(OMBUDSMAN, f"e-{i}") for i in range(0, 1200, 3)} | {(PANRB, "e-1"), (PANRB, "e-5")}
    asked = {(OMBUDSMAN, f"e-{i}") for i in range(1200)} | {(PANRB, f"e-{i}") for i in range(10)}
    statements = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        if "processed_event" in statement and statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))
    try:
        async with sessions() as session, session.begin():
            await session.execute(insert(orm.ProcessedEventRow.__table__), [_row(*key) for key in stored])
        event.listen(engine.sync_engine, "before_cursor_execute", capture)
        async with sessions() as session:
            processed = SqlProcessedEvents(session)
            await processed.preload(asked)
            answers = {key: await processed.seen(*key) for key in asked}
            plans = []
            if "sqlite" in database_url:
                connection = await session.connection()
                for statement, parameters in statements:
                    raw = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
                    plans.append(" | ".join(str(row[-1]) for row in raw.all()))
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
    finally:
        await engine.dispose()
    assert {key for key, seen in answers.items() if seen} == stored
    assert 1 <= len(statements) <= 4      # a few queries for 1,210 events, not one each
    for plan in plans:
        assert "SEARCH processed_event" in plan and "SCAN processed_event" not in plan, plan
    if "postgresql" in database_url:       # the ids as one array parameter, not one bind (and cast) each
        for statement, parameters in statements:
            assert "= ANY (" in statement and len(parameters) == 2, statement
