"""Alembic environment: runs migrations over the async engine of the configured URL."""

import asyncio

from alembic import context
from sqlmodel import SQLModel

from tindaklanjut.adapters import orm, orm_followup  # noqa: F401  (registers the tables)
from tindaklanjut.adapters import orm_reminders  # noqa: F401  (reminder tables)
from tindaklanjut.adapters.database import create_engine

target_metadata = SQLModel.metadata


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


def _inside_alembic() -> bool:
    """Alembic runs this file; imported by a tool outside a migration, it does nothing."""
    try:
        context.config
    except AttributeError:
        return False
    return True


if _inside_alembic():
    if context.is_offline_mode():
        raise SystemExit("offline migrations are not supported; run against a database")
    asyncio.run(_run_async())
