"""`column IN (list)` at the same cost on every backend.

SQLAlchemy sends an IN list as one bound parameter per value. For asyncpg it renders each one with
a type cast (`$1::VARCHAR, $2::VARCHAR, ...`) on every execution, and the ingest path asks five
such questions per batch (seen events, revisions, agencies, units, open recommendations) and the
relay marks up to 1,000 ids at once: that rendering showed in every profile of the worker, though
removing it measured within noise in-process (docs/benchmarks.md, series I). On PostgreSQL the
list goes as one array parameter instead (`column = ANY($1::VARCHAR[])`), which the planner
answers with the same index lookups; SQLite keeps its IN list, which it plans well and binds
cheaply.

A list of pairs (a composite key) is asked the same way in one statement with a fixed text: on
PostgreSQL as two arrays unnested side by side, on SQLite as one JSON array read by `json_each`.
Both are answered by index lookups on the key; SQLite scans the whole index for a plain
`(a, b) IN ((?, ?), ...)`, and a `VALUES` list costs SQLAlchemy two bound parameters per pair to
compile on every batch.
"""

from __future__ import annotations

from collections.abc import Collection

import orjson
from sqlalchemy import String, any_, bindparam, func, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement


def one_of(session: AsyncSession, column, values: Collection) -> ColumnElement[bool]:
    """`column IN values`, as the session's database answers it best."""
    if session.bind.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)


def pairs_in(session: AsyncSession, columns: tuple, pairs: Collection[tuple]) -> ColumnElement[bool]:
    """`(a, b) IN pairs` for a composite key, in one statement with index lookups on both databases."""
    first, second = columns
    if session.bind.dialect.name == "postgresql":
        keys = func.unnest(bindparam(None, [pair[0] for pair in pairs], type_=ARRAY(first.type)),
                           bindparam(None, [pair[1] for pair in pairs], type_=ARRAY(second.type))
                           ).table_valued("first", "second").render_derived()
        return tuple_(first, second).in_(select(keys.c.first, keys.c.second))
    listed = func.json_each(bindparam(None, orjson.dumps(list(pairs)).decode(), type_=String)).table_valued("value")
    return tuple_(first, second).in_(select(func.json_extract(listed.c.value, "$[0]"),
                                            func.json_extract(listed.c.value, "$[1]")))
