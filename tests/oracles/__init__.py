"""The oracle tests' shared parts: canonical events from plain rows, one random-log
generator (``oracles.logs``) and one module of brute-force oracles per analysis
(``oracles.funnels``, ``oracles.paths``, ``oracles.retention``, ...).

Each test writes its rows in the shape its oracle reads (a tuple per event) and
hands them here as canonical columns; the events live in a fresh in-memory
DuckDB, in UTC, and are read through ``jl.connect`` as any backend's would be.
An oracle is plain Python over the rows, one person at a time, written from the
definition and never from the engine's SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import ibis
import pandas as pd

import journeylib as jl

#: the instant the tests' integer times count from
BASE = pd.Timestamp("2024-01-01T00:00:00Z")
#: one second in the microseconds the tests' times are written in
SECOND = 1_000_000


def at(microseconds: int) -> pd.Timestamp:
    """The time ``microseconds`` after :data:`BASE`."""
    return BASE + pd.Timedelta(microseconds=microseconds)


def events(
    rows: pd.DataFrame | Iterable[Mapping[str, object]], feedback: pd.DataFrame | None = None
) -> jl.Events:
    """Canonical events from a frame or rows of canonical columns (``event_id`` e00000, ...
    when not given), with a ``feedback`` table beside them when given.

    Columns may be left out; ``channel`` and ``revenue`` keep their missing
    values as NULL.
    """
    frame = rows.copy() if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    if "event_id" not in frame.columns:
        frame.insert(0, "event_id", [f"e{i:05d}" for i in range(len(frame))])
    for column, kind in (("channel", "object"), ("revenue", "float64")):
        if column in frame.columns:
            frame[column] = frame[column].astype(kind)
    backend = ibis.duckdb.connect()
    backend.raw_sql("SET TimeZone = 'UTC'")
    backend.con.register("frame", frame)
    backend.raw_sql("create table ev as select * from frame")
    if feedback is not None:
        backend.con.register("given", feedback)
        backend.raw_sql("create table feedback as select * from given")
    return jl.connect(backend, events="ev").events()
