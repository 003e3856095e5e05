"""The only module that opens and talks to the engine (DuckDB, through Ibis).

:class:`Engine` wraps one DuckDB connection and the Ibis backend over it. It
runs raw SQL for the loaders (values always bound), executes Ibis expressions
for the analyses, and turns every engine failure into a journeylib error, so
analysts never see a stack trace from deep inside DuckDB.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pandas as pd
from ibis.backends import BaseBackend

from journeylib.errors import EngineError, WorkspaceError
from journeylib.privacy import MIN_CELL_SIZE_VARIABLE

Params = Sequence[object] | None


class Engine:
    """One DuckDB database (a file, or memory) and the Ibis backend over it.

    Examples
    --------
    >>> engine = Engine.connect(None)
    >>> engine.scalar("select ? + 1", [41])
    42
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection | None,
        path: Path | None,
        read_only: bool,
        backend: BaseBackend | None = None,
    ) -> None:
        self._con = con
        self.path = path
        self.read_only = read_only
        self.ibis: BaseBackend = (
            backend if backend is not None else ibis.duckdb.from_connection(con)
        )

    @classmethod
    def over(cls, backend: BaseBackend) -> Engine:
        """An engine over any Ibis backend (Spark, BigQuery, ...): analyses only, no loads."""
        if backend.name == "duckdb":
            return cls(backend.con, None, False, backend)
        return cls(None, None, True, backend)

    @property
    def name(self) -> str:
        """The backend's name: ``duckdb``, ``pyspark``, ``bigquery``..."""
        return str(self.ibis.name)

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection (loads and raw SQL need a DuckDB workspace)."""
        if self._con is None:
            raise EngineError(
                f"This needs a DuckDB workspace; the events live on {self.name}. "
                "Analyses run there; loads and raw SQL run in jl.open()."
            )
        return self._con

    @classmethod
    def connect(cls, path: str | Path | None, *, read_only: bool = False) -> Engine:
        """Open a DuckDB file (created when missing) or an in-memory database."""
        target = Path(path) if path is not None else None
        if target is not None and read_only and not target.exists():
            raise WorkspaceError(f"No workspace at {target}: load some exports into it first.")
        try:
            con = duckdb.connect(str(target) if target else ":memory:", read_only=read_only)
        except duckdb.IOException as err:
            if "lock" in str(err).lower():
                raise WorkspaceError(
                    f"The workspace {target} is open for writing in another process "
                    "(a notebook or a running load), and DuckDB lets no other process open "
                    "it then, not even to read. Close it there (ws.close() in a notebook) or "
                    "wait for the load to end, then try again."
                ) from None
            if "not a valid duckdb database" in str(err).lower():
                raise WorkspaceError(
                    f"{target} is not a DuckDB workspace file. Give the workspace's path, or a "
                    "new file name to create one."
                ) from None
            raise EngineError(f"Cannot open the workspace {target}: {_describe(err)}") from None
        con.execute("SET TimeZone = 'UTC'")
        # long loads and queries show DuckDB's progress bar: a widget in Jupyter, a bar
        # on a terminal; never inside a report, whose outputs are published
        con.execute(f"SET enable_progress_bar = {str(_interactive()).lower()}")
        return cls(con, target, read_only)

    def execute(self, sql: str, params: Params = None) -> None:
        """Run a statement, binding ``params`` to its ``?`` placeholders."""
        try:
            self.con.execute(sql, params or [])
        except duckdb.Error as err:
            raise EngineError(_describe(err)) from None

    def frame(self, sql: str, params: Params = None) -> pd.DataFrame:
        """Run a query and return its result as a pandas DataFrame."""
        try:
            return self.con.execute(sql, params or []).df()
        except duckdb.Error as err:
            raise EngineError(_describe(err)) from None

    def rows(self, sql: str, params: Params = None) -> list[tuple[Any, ...]]:
        """Run a query and return all of its rows as tuples."""
        try:
            return self.con.execute(sql, params or []).fetchall()
        except duckdb.Error as err:
            raise EngineError(_describe(err)) from None

    def scalar(self, sql: str, params: Params = None) -> Any:
        """Run a query that returns one value, and return it."""
        rows = self.rows(sql, params)
        return rows[0][0] if rows else None

    def run(self, expr: ibis.Table, *, what: str = "the analysis") -> pd.DataFrame:
        """Execute an Ibis expression, wrapping engine failures with ``what`` failed."""
        try:
            frame: pd.DataFrame = expr.to_pandas()
            return frame
        except duckdb.Error as err:
            raise EngineError(f"{what} failed in the engine: {_describe(err)}") from None
        except Exception as err:
            if _is_engine_error(err):
                raise EngineError(f"{what} failed on {self.name}: {_describe(err)}") from None
            raise

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All statements inside commit together, or none of them do."""
        self.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.execute("COMMIT")

    def close(self) -> None:
        """Close the connection."""
        self.con.close()


def _interactive() -> bool:
    """Whether someone is watching: a Jupyter kernel or a terminal, and not a report run."""
    if os.environ.get(MIN_CELL_SIZE_VARIABLE) is not None:
        return False
    return "ipykernel" in sys.modules or sys.stderr.isatty()


def _is_engine_error(err: Exception) -> bool:
    """Errors raised by Ibis or a remote engine (Spark, a warehouse), not by our own code."""
    module = type(err).__module__
    return module.startswith(("ibis.", "pyspark", "py4j", "google.", "snowflake", "trino"))


def _describe(err: Exception) -> str:
    r"""The first line of a DuckDB message, without its internal detail.

    A CSV reader's message names the line on its first line and the reason
    after a copy of the line; the reason is kept.

    Examples
    --------
    >>> _describe(ValueError("CSV Error on Line: 1\nOriginal Line: a,b\nMaximum line size exceeded.\n\n  file = x"))
    'CSV Error on Line: 1: Maximum line size exceeded.'
    """
    lines = [line.strip() for line in str(err).strip().splitlines()]
    if not lines or not lines[0]:
        return type(err).__name__
    if len(lines) > 2 and lines[1].startswith("Original Line:"):
        reason = next((line for line in lines[2:] if line), "")
        if reason and not reason.startswith("Possible Solution"):
            return f"{lines[0]}: {reason}"
    return lines[0]
