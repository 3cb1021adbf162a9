"""Every SQLite connection the project opens is set up the same way: write-ahead log, readers
alongside a writer, foreign keys, and checkpoints far enough apart that an ingest batch (about
5 MB) does not pay for one each."""

from tindaklanjut.adapters.database import WAL_CHECKPOINT_PAGES, WAL_SIZE_LIMIT_BYTES, create_engine


async def test_sqlite_connections_log_ahead_and_checkpoint_rarely(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        async with engine.connect() as connection:
            settings = {name: (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar()
                        for name in ("journal_mode", "synchronous", "wal_autocheckpoint", "journal_size_limit",
                                     "foreign_keys", "busy_timeout")}
            await connection.exec_driver_sql("CREATE TABLE page (body BLOB)")
            await connection.exec_driver_sql("INSERT INTO page VALUES (zeroblob(8000000))")   # over 1,000 pages
            await connection.commit()
            database_bytes = (tmp_path / "db.sqlite").stat().st_size
            log_bytes = (tmp_path / "db.sqlite-wal").stat().st_size
    finally:
        await engine.dispose()
    assert settings == {"journal_mode": "wal", "synchronous": 1, "wal_autocheckpoint": WAL_CHECKPOINT_PAGES,
                        "journal_size_limit": WAL_SIZE_LIMIT_BYTES, "foreign_keys": 1, "busy_timeout": 30000}
    # The 8 MB commit stayed in the log: no checkpoint copied it into the database file yet.
    assert log_bytes > 8_000_000 and database_bytes < 1_000_000, (log_bytes, database_bytes)
