"""Run the same analyses where the events already live: Spark, BigQuery, Snowflake...

``jl.connect(backend, events=...)`` opens a read-only workspace over any Ibis
connection whose events table has (or is mapped to) the canonical columns.
Analyses are Ibis expressions, so they run there unchanged; loads stay with
DuckDB workspaces (``jl.open``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
from ibis.backends import BaseBackend

from journeylib.core.engine import Engine
from journeylib.core.errors import DataError, ParameterError
from journeylib.core.schema import EVENT_COLUMNS
from journeylib.model.events import Events

_IBIS_TYPES = {
    "VARCHAR": "string",
    "TIMESTAMPTZ": "timestamp('UTC')",
    "DOUBLE": "float64",
    "JSON": "json",
}


@dataclass(frozen=True)
class Connection:
    """A read-only workspace over another engine's events table.

    Examples
    --------
    >>> import ibis
    >>> backend = ibis.duckdb.connect()
    >>> _ = backend.raw_sql("create table raw as select 'a' as uid, 'view' as name, now() as ts")
    >>> conn = connect(backend, events="raw", mapping={"user_id": "uid", "event_name": "name", "event_time": "ts"})
    >>> conn.events().count()
    1
    """

    engine: Engine
    table: ir.Table

    def events(self) -> Events:
        """The immutable handle analyses read."""
        return Events.over(self.engine, self.table)

    def info(self) -> dict[str, Any]:
        """Events, users, first and last event."""
        t = self.table
        row = self.engine.run(
            t.aggregate(
                events=t.count(),
                users=t.user_id.nunique(),
                first_event=t.event_time.min(),
                last_event=t.event_time.max(),
            ),
            what="summarising events",
        ).iloc[0]
        return {
            str(key): (value.isoformat() if hasattr(value, "isoformat") else int(value))
            for key, value in row.items()
        }


def connect(
    backend: BaseBackend,
    events: str | ir.Table = "events",
    mapping: Mapping[str, str] | None = None,
) -> Connection:
    """Open a workspace over ``backend``'s ``events`` table (a name or an Ibis table).

    ``mapping`` renames columns (canonical name -> column in the table);
    canonical columns still missing are added as typed NULLs, except
    ``user_id``, ``event_time`` and ``event_name``, which must exist.
    """
    engine = Engine.over(backend)
    table = engine.table(events) if isinstance(events, str) else events
    names = dict(mapping or {})
    for canonical, column in names.items():
        if canonical not in EVENT_COLUMNS:
            raise ParameterError("mapping", canonical, allowed=list(EVENT_COLUMNS))
        if column not in table.columns:
            raise ParameterError(
                "mapping", column, allowed=list(table.columns), reason="No such column."
            )
    present = {c: names.get(c, c) for c in EVENT_COLUMNS if names.get(c, c) in table.columns}
    for required in ("user_id", "event_time", "event_name"):
        if required not in present:
            raise ParameterError(
                "mapping", required, reason=f"The events table has no {required} column; map one."
            )
    columns = {}
    for canonical, kind in EVENT_COLUMNS.items():
        target = _IBIS_TYPES[kind]
        if canonical in present:
            column = table[present[canonical]]
            columns[canonical] = column if canonical == "properties" else column.cast(target)
        else:
            columns[canonical] = ibis.null().cast(target)
    return Connection(engine, table.select(**columns))


def read_events(path: str | Path) -> Events:
    """Events straight from a canonical-column CSV or Parquet file, no workspace needed.

    Examples
    --------
    >>> import tempfile
    >>> file = Path(tempfile.mkdtemp()) / "e.csv"
    >>> _ = file.write_text("user_id,event_name,event_time\\nu1,view,2024-01-01T10:00:00Z\\n")
    >>> read_events(file).count()
    1
    """
    source = Path(path)
    if not source.is_file():
        raise DataError("file not found", file=str(source))
    backend = ibis.duckdb.connect()
    backend.raw_sql("SET TimeZone = 'UTC'")
    try:
        if source.suffix.lower() == ".parquet":
            table = backend.read_parquet(str(source))
        else:
            table = backend.read_csv(str(source), all_varchar=True)
    except Exception as err:  # the reader could not parse the file at all
        raise DataError(f"cannot read the file: {err}", file=str(source)) from None
    return connect(backend, events=table).events()


__all__ = ["Connection", "connect", "read_events"]
