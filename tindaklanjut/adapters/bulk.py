"""Many new rows of one table in one driver-level statement: `executemany` on SQLite, a binary
COPY on PostgreSQL.

SQLAlchemy's type layer runs a Python function per value of every typed column (datetimes, dates,
JSON) and builds a parameter dict per row. On the ingest path that cost more than the database
itself (docs/benchmarks.md, series F). Here each column's conversion is chosen once per table and
dialect, rows become tuples, and the statement goes to the driver through the session's own
connection, so it is part of the unit of work's transaction like any other statement.

Values are stored exactly as the table's types store them (`tests/integration/test_bulk_insert.py`
compares the two byte for byte): on SQLite, timestamps as naive UTC text with microseconds and
dates as ISO text; on PostgreSQL, the driver's own types. JSON goes as text; a `RawJSON` value is
text that is already JSON (pydantic's `model_dump_json`) and is not encoded again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timezone
from functools import lru_cache
from operator import itemgetter
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tindaklanjut.adapters.orm import UTCDateTime


class RawJSON(str):
    """JSON text, stored as it is in a JSON column."""


def _json_text(value: Any) -> str:
    return value if type(value) is RawJSON else orjson.dumps(value).decode()


def _sqlite_timestamp(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetime refused; pass a timezone-aware value")
    return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat(" ", "microseconds")


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime refused; pass a timezone-aware value")
    return value


def _sqlite_date(value: date) -> str:
    return value.isoformat()


def _converter(column_type: sa.types.TypeEngine, dialect: str) -> Callable[[Any], Any] | None:
    """How one column's value reaches the driver; None when it goes as it is."""
    if isinstance(column_type, UTCDateTime):
        return _sqlite_timestamp if dialect == "sqlite" else _aware
    if isinstance(column_type, sa.JSON):
        return _json_text
    if isinstance(column_type, sa.DateTime):
        raise TypeError("bulk inserts take UTCDateTime columns only (aware timestamps)")
    if isinstance(column_type, sa.Date) and dialect == "sqlite":
        return _sqlite_date
    return None


# Conversions whose results repeat within a batch (one issue time, one deadline per priority):
# each distinct value is converted once per statement.
_REPEATING = frozenset({_sqlite_timestamp, _sqlite_date})


@lru_cache(maxsize=64)
def _plan(table: sa.Table, columns: tuple[str, ...], dialect: sa.engine.Dialect
          ) -> tuple[str, tuple[str, ...], Callable[[dict], tuple], tuple[tuple[int, Callable[[Any], Any]], ...]]:
    """The statement, the order of its parameters, how to take them from a row, and the conversions."""
    compiled = sa.insert(table).compile(dialect=dialect, column_keys=list(columns))
    order = tuple(compiled.positiontup or ())
    if sorted(order) != sorted(columns):
        raise ValueError(f"{table.name}: the statement binds {order}, the rows hold {columns}")
    conversions = tuple((index, convert) for index, name in enumerate(order)
                        if (convert := _converter(table.c[name].type, dialect.name)) is not None)
    values_of = itemgetter(*order) if len(order) > 1 else (lambda row: (row[order[0]],))
    return compiled.string, order, values_of, conversions


async def insert_rows(session: AsyncSession, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """Write every row (all with the same keys) in one driver-level statement, in the session's
    transaction."""
    if not rows:
        return
    connection = await session.connection()
    statement, columns, values_of, conversions = _plan(table, tuple(rows[0]), connection.dialect)
    if conversions:
        parameters = []
        converted: dict[Any, Any] = {}
        for row in rows:
            values = list(values_of(row))
            for index, convert in conversions:
                value = values[index]
                if value is None:
                    continue
                if convert in _REPEATING:
                    key = (convert, value)
                    if key not in converted:
                        converted[key] = convert(value)
                    values[index] = converted[key]
                else:
                    values[index] = convert(value)
            parameters.append(tuple(values))
    else:
        parameters = [values_of(row) for row in rows]
    if connection.dialect.name == "postgresql":
        await _copy(connection, table, columns, parameters)
    else:
        await connection.exec_driver_sql(statement, parameters)


async def _copy(connection, table: sa.Table, columns: tuple[str, ...], records: list[tuple]) -> None:
    """PostgreSQL: COPY in the binary format, inside the unit of work's transaction."""
    driver = (await connection.get_raw_connection()).driver_connection
    if not driver.is_in_transaction():
        await connection.exec_driver_sql("SELECT 1")      # SQLAlchemy begins its transaction on first use
    await driver.copy_records_to_table(table.name, records=records, columns=list(columns))
