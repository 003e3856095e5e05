"""The only module that opens and talks to the engine (DuckDB, through Ibis).

:class:`Engine` wraps one DuckDB connection and the Ibis backend over it. It
runs raw SQL for the loaders (values always bound), executes Ibis expressions
for the analyses, and turns every engine failure into a journeylib error, so
analysts never see a stack trace from deep inside DuckDB.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import ibis
import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
import pandas as pd
from ibis.backends import BaseBackend

from journeylib.core.errors import EngineError, WorkspaceError
from journeylib.core.options import options
from journeylib.core.sql import ident, literal

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
        *,
        shared: bool = False,
    ) -> None:
        self._con = con
        self.path = path
        #: opened with read_only=True: nothing may be written
        self.read_only = read_only
        #: a file held read-only between writes, so other processes can read it meanwhile
        self.shared = shared
        self._writes = 0  # how many writing() blocks are open
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
        """Open a DuckDB file or an in-memory database.

        A file opened to write (``read_only=False``) is *shared*: it is held
        read-only, so other processes (the CLI, another notebook) can read it
        while this one has it open, and for writing only inside
        :meth:`writing` (a load, an unload). A missing file is created.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> engine = Engine.connect(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb")
        >>> engine.shared, engine.scalar("select current_setting('access_mode')")
        (True, 'read_only')
        """
        target = Path(path) if path is not None else None
        if target is None:
            return cls(_open(None, read_only=False), None, False)
        read_only = read_only or options.read_only
        if read_only and not target.exists():
            raise WorkspaceError(f"No workspace at {target}: load some exports into it first.")
        if not read_only and not target.exists():
            _open(target, read_only=False).close()  # create the file, then read it like any
        return cls(_open(target, read_only=True), target, read_only, shared=not read_only)

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the workspace for writing inside the block, then let others read it again.

        Raises a WorkspaceError on a workspace opened ``read_only=True``, and
        when another process has the file open (DuckDB lets one process write a
        file only while no other process has it open).

        Examples
        --------
        >>> import pathlib, tempfile
        >>> engine = Engine.connect(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb")
        >>> with engine.writing():
        ...     engine.execute("create table t (x int)")
        ...     engine.scalar("select current_setting('access_mode')")
        'automatic'
        >>> engine.scalar("select current_setting('access_mode')")
        'read_only'
        """
        if self.read_only:
            raise WorkspaceError(
                f"The workspace {self.path} was opened with read_only=True (--read-only): it reads,"
                " and loads nothing. Open it with jl.open(path) to load or unload."
            )
        if not self.shared or self._writes:
            self._writes += 1
            try:
                yield
            finally:
                self._writes -= 1
            return
        self._reopen(read_only=False)
        self._writes += 1
        try:
            yield
        finally:
            self._writes -= 1
            self._reopen(read_only=True)

    def _reopen(self, *, read_only: bool) -> None:
        """The file again, read-only or for writing, with the settings the connection had.

        The settings are a memory limit, threads...; the file is read again when
        writing is refused.
        """
        assert self.path is not None and self._con is not None
        settings = _settings(self._con)
        self._con.close()
        try:
            con = _open(self.path, read_only=read_only, to_write=not read_only)
        except WorkspaceError:
            if read_only:  # a load took the file meanwhile: this engine is closed
                raise
            self._adopt(_open(self.path, read_only=True), settings)
            raise
        self._adopt(con, settings)

    def _adopt(self, con: duckdb.DuckDBPyConnection, settings: dict[str, str]) -> None:
        _carry(settings, con)
        self._con = con
        self.ibis = ibis.duckdb.from_connection(con)

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

    def table(self, name: str) -> ibis.Table:
        """The Ibis table ``name``, its DuckDB ``VARIANT`` columns typed binary JSON.

        Ibis reads a ``VARIANT`` as plain ``json``, whose key access compiles to
        JSON functions that refuse it; ``jsonb`` tells readers to use
        ``variant_extract`` instead (ADR 0037).

        Examples
        --------
        >>> engine = Engine.connect(None)
        >>> engine.execute("create table t (p variant, q json)")
        >>> [str(engine.table("t")[c].type()) for c in "pq"]
        ['jsonb', 'json']
        """
        table = self.ibis.table(name)
        if self.name != "duckdb":
            return table
        variants = {
            column
            for (column,) in self.rows(
                "select column_name from duckdb_columns() where table_name = ?"
                " and database_name = current_database() and data_type = 'VARIANT'",
                [name],
            )
        }
        if not variants:
            return table
        op = table.op()
        schema = {c: dt.JSON(binary=True) if c in variants else k for c, k in op.schema.items()}
        return ops.DatabaseTable(
            op.name, schema=ibis.schema(schema), source=op.source, namespace=op.namespace
        ).to_expr()

    def run(self, expr: ibis.Table, *, what: str = "the analysis") -> pd.DataFrame:
        """Execute an Ibis expression, wrapping engine failures with ``what`` failed.

        The expression runs on this engine's current connection, whichever
        connection its tables were read from (a shared workspace reopens its file).
        """
        try:
            frame: pd.DataFrame = self.ibis.to_pandas(expr)
            return frame
        except duckdb.Error as err:
            raise EngineError(f"{what} failed in the engine: {_describe(err)}") from None
        except Exception as err:
            if _is_engine_error(err):
                raise EngineError(f"{what} failed on {self.name}: {_describe(err)}") from None
            raise

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All statements inside commit together, or none of them do (see :meth:`writing`)."""
        with self.writing():
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


def _open(
    target: Path | None, *, read_only: bool, to_write: bool = False
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection to ``target`` (memory when None), in UTC, or a WorkspaceError.

    ``to_write``: the connection is for a write, and the error says what to do
    when others have the file open.
    """
    try:
        con = duckdb.connect(str(target) if target else ":memory:", read_only=read_only)
    except duckdb.IOException as err:
        if "lock" in str(err).lower() and to_write:
            raise WorkspaceError(
                f"The workspace {target} is open in another process (a notebook, the CLI or a"
                " report reading it), and DuckDB writes a file only while no other process has"
                " it open. Close it there (ws.close() in a notebook), or load from there, then"
                " try again."
            ) from None
        if "lock" in str(err).lower():
            raise WorkspaceError(
                f"The workspace {target} is open for writing in another process "
                "(a load running in a notebook or the CLI), and DuckDB lets no other process "
                "open it then, not even to read. Close it there (ws.close() in a notebook) or "
                "wait for the load to end, then try again."
            ) from None
        if "not a valid duckdb database" in str(err).lower():
            raise WorkspaceError(
                f"{target} is not a DuckDB workspace file. Give the workspace's path, or a "
                "new file name to create one."
            ) from None
        raise EngineError(f"Cannot open the workspace {target}: {_describe(err)}") from None
    except duckdb.ConnectionException as err:
        if "different configuration" not in str(err):
            raise EngineError(f"Cannot open the workspace {target}: {_describe(err)}") from None
        raise WorkspaceError(
            f"The workspace {target} is open elsewhere in this process too (another"
            " jl.open of the same file). Close that one (ws.close()) to load here, or load"
            " there."
        ) from None
    con.execute("SET TimeZone = 'UTC'")
    # long loads and queries show DuckDB's progress bar: a widget in Jupyter, a bar
    # on a terminal; never inside a report (its run sets progress "off")
    con.execute(f"SET enable_progress_bar = {str(_progress()).lower()}")
    return con


def _settings(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return {str(name): str(value) for name, value in con.execute(_SETTINGS).fetchall()}


def _carry(settings: dict[str, str], con: duckdb.DuckDBPyConnection) -> None:
    """Set on ``con`` the ``settings`` (of the connection it replaces) it has otherwise.

    The access mode stays as opened; a setting DuckDB takes only at start
    (none that a session sets) is left as it is.
    """
    now = _settings(con)
    for name, value in settings.items():
        if name == "access_mode" or now.get(name) == value:
            continue
        try:
            con.execute(f"SET {ident(name)} = {literal(value)}")
        except duckdb.Error:
            continue  # fixed when the database started: the new connection's holds


_SETTINGS = "select name, value from duckdb_settings()"


def _progress() -> bool:
    """Whether to draw progress bars, as ``options.progress`` says.

    Under ``auto``: when someone is watching (a Jupyter kernel or a terminal).
    """
    if options.progress != "auto":
        return options.progress == "on"
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
