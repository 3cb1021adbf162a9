"""`column IN (list)` at the same cost on every backend.

SQLAlchemy sends an IN list as one bound parameter per value. For asyncpg it renders each one with
a type cast (`$1::VARCHAR, $2::VARCHAR, ...`) on every execution, and the ingest path asks five
such questions per batch (seen events, revisions, agencies, units, open recommendations) and the
relay marks up to 1,000 ids at once: that rendering showed in every profile of the worker, though
removing it measured within noise in-process (docs/benchmarks.md, series I). On PostgreSQL the
list goes as one array parameter instead (`column = ANY($1::VARCHAR[])`), which the planner
answers with the same index lookups; SQLite keeps its IN list, which it plans well and binds
cheaply.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement


def one_of(session: AsyncSession, column, values: Collection) -> ColumnElement[bool]:
    """`column IN values`, as the session's database answers it best."""
    if session.bind.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)
