"""The seen-event lookup of an ingest batch (`SqlProcessedEvents.preload`): right answers for events
of many sources (each Ombudsman regional office is its own), one statement per 500 events whatever
their sources, and an index search, not a table scan (a scan grows with every event ever processed);
on PostgreSQL the keys go as two array parameters."""

from datetime import datetime, timezone

from sqlalchemy import event, insert

from tindaklanjut.adapters import orm
from tindaklanjut.adapters.database import create_engine, session_factory
from tindaklanjut.adapters.migrate import upgrade_async
from tindaklanjut.adapters.repository import SqlProcessedEvents

OMBUDSMAN, PANRB = "urn:evaluator:ombudsman-ri:perwakilan-jambi", "urn:evaluator:kemenpanrb:deputi-pelayanan-publik"
OFFICES = [f"urn:evaluator:ombudsman-ri:perwakilan-{code}" for code in range(11, 45)]
AT = datetime(2024, 12, 21, tzinfo=timezone.utc)


def _row(source: str, event_id: str) -> dict:
    return dict(source=source, event_id=event_id, event_type="tindaklanjut.assessment.published.v1",
                processed_at=AT, outcome="processed", redeliveries=0)


async def test_a_batch_of_several_sources_learns_exactly_which_events_were_processed(database_url):
    await upgrade_async(database_url)
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    stored = {(OMBUDSMAN, f"e-{i}") for i in range(0, 1200, 3)} | {(PANRB, "e-1"), (PANRB, "e-5")}
    stored |= {(office, "e-7") for office in OFFICES[::2]}
    asked = ({(OMBUDSMAN, f"e-{i}") for i in range(1200)} | {(PANRB, f"e-{i}") for i in range(10)}
             | {(office, f"e-{i}") for office in OFFICES for i in range(5, 9)})
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
            connection = await session.connection()
            for statement, parameters in statements:
                if "sqlite" in database_url:
                    raw = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
                    plans.append(" | ".join(str(row[-1]) for row in raw.all()))
                else:
                    raw = await connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
                    plans.append(" | ".join(str(row[0]) for row in raw.all()))
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
    finally:
        await engine.dispose()
    assert {key for key, seen in answers.items() if seen} == stored
    assert len(asked) == 1346 and len(statements) == 3      # one per 500 events, not one per source
    for plan in plans:
        if "sqlite" in database_url:
            assert "SEARCH processed_event" in plan and "SCAN processed_event" not in plan, plan
        else:        # a fresh table may be scanned; what matters is that the key can be looked up
            assert "processed_event_pkey" in plan or "Seq Scan on processed_event" in plan, plan
    if "postgresql" in database_url:       # the keys as two array parameters, not two binds (and casts) each
        for statement, parameters in statements:
            assert "unnest(" in statement and len(parameters) == 2, statement
