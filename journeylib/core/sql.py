"""The one place that quotes SQL, and the type that shows SQL to people.

Loaders build raw DuckDB reader SQL (``read_csv``, ``read_json``,
``read_parquet``). Identifiers in that SQL go through :func:`ident`; values are
bound as ``?`` parameters, or, where DuckDB accepts no parameter (some reader
options), through :func:`literal`. No other module quotes anything.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import ibis

from journeylib.core.errors import ParameterError

if TYPE_CHECKING:
    import duckdb


def ident(name: str) -> str:
    """Quote an identifier (column or table name) for DuckDB.

    Examples
    --------
    >>> ident('we"ird name')
    '"we""ird name"'
    """
    if "\x00" in name:
        raise ValueError("identifiers cannot contain NUL characters")
    return '"' + name.replace('"', '""') + '"'


def _joined(texts: list[str], labels: Sequence[str]) -> str:
    if labels:
        texts = [f"-- {label}\n{text}" for label, text in zip(labels, texts, strict=True)]
    return ";\n\n".join(texts)


def _translated(query: Any, dialect: str) -> str:
    """One Ibis query in ``dialect``: compiled by Ibis, else translated from DuckDB's SQL."""
    import sqlglot
    from ibis.common.exceptions import IbisError

    if dialect == "spark":
        try:  # its compiler reads options the backend registers when first loaded
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)  # pandas 3 not yet blessed
                ibis.pyspark  # noqa: B018
        except ImportError:
            return sqlglot.transpile(str(ibis.to_sql(query)), read="duckdb", write="spark")[0]
    try:
        return str(ibis.to_sql(query, dialect={"spark": "pyspark"}.get(dialect, dialect)))
    except IbisError:
        return sqlglot.transpile(str(ibis.to_sql(query)), read="duckdb", write=dialect)[0]


def literal(value: str | int | float | bool | None) -> str:
    """Render a value as a SQL literal, for places where binding is impossible.

    Examples
    --------
    >>> literal("it's")
    "'it''s'"
    >>> literal(None)
    'NULL'
    """
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and not math.isfinite(value):
        raise ParameterError("value", value, reason="SQL has no literal for NaN or infinity.")
    if isinstance(value, int | float):
        return repr(value)
    if "\x00" in value:
        raise ParameterError("value", value, reason="Text in SQL cannot hold a NUL character.")
    return "'" + value.replace("'", "''") + "'"


def regex_error(pattern: str) -> str | None:
    """Why DuckDB's regular expressions (RE2) refuse ``pattern``, or None when they accept it.

    User patterns run in DuckDB, whose RE2 has no look-around or backreferences,
    so they are checked there rather than with Python's ``re``.

    Examples
    --------
    >>> regex_error("^e-?mail$") is None
    True
    >>> regex_error("(?=e)mail")
    'invalid perl operator: (?='
    """
    import duckdb

    try:
        _regex_checker().cursor().execute("select regexp_matches('', ?)", [pattern])
    except duckdb.Error as err:
        return str(err).splitlines()[0].removeprefix("Invalid Input Error: ")
    return None


@functools.cache
def _regex_checker() -> duckdb.DuckDBPyConnection:
    """One in-memory DuckDB for checking patterns.

    Opening one per pattern cost 15 ms each, and every workspace checks its
    channel rules when it opens.
    """
    import duckdb

    return duckdb.connect()


def json_path(*keys: str) -> str:
    """A JSON path literal for ``json_extract`` that reaches nested keys safely.

    Examples
    --------
    >>> json_path("context", "campaign", "source")
    '$."context"."campaign"."source"'
    """
    return "$" + "".join('."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"' for key in keys)


#: dialects worth offering (any sqlglot dialect Ibis knows works too)
DIALECTS = ("duckdb", "spark", "bigquery", "snowflake", "trino", "postgres", "clickhouse")


class SQL(str):
    """SQL text that renders as a highlighted block in Jupyter.

    Built with :meth:`of` from Ibis expressions, it can also be shown in another
    engine's dialect (:meth:`to`), for a team that runs the query there.

    Examples
    --------
    >>> SQL("select 1")._repr_markdown_()
    '```sql\\nselect 1\\n```'
    """

    queries: tuple[Any, ...] = ()
    labels: tuple[str, ...] = ()
    #: no query ran (:meth:`none`)
    empty: bool = False

    @classmethod
    def of(cls, *queries: Any, labels: Sequence[str] = ()) -> SQL:
        """The DuckDB SQL of one or more Ibis expressions, kept for :meth:`to`.

        Queries are joined by blank lines, each after a ``-- label`` comment when
        ``labels`` are given.

        Examples
        --------
        >>> import ibis
        >>> t = ibis.table({"user_id": "string"}, name="events")
        >>> print(SQL.of(t.count().as_table()).to("spark"))
        SELECT
          COUNT(*) AS `CountStar(events)`
        FROM `events` AS `t0`
        >>> SQL.of(t.count().as_table()).to("sparkk")
        Traceback (most recent call last):
        journeylib.core.errors.ParameterError: Invalid value 'sparkk' for parameter 'dialect'. Allowed values: duckdb, spark, bigquery, snowflake, trino, postgres, clickhouse. Did you mean 'spark'?
        """
        text = cls(_joined([str(ibis.to_sql(q, dialect="duckdb")) for q in queries], labels))
        text.queries, text.labels = queries, tuple(labels)
        return text

    @classmethod
    def combine(cls, parts: Sequence[SQL], labels: Sequence[str]) -> SQL:
        """Several analyses' SQL as one, each under a ``-- label``, without compiling again.

        Examples
        --------
        >>> print(SQL.combine([SQL("select 1"), SQL("select 2")], ["one", "two"]))
        -- one
        select 1;
        <BLANKLINE>
        -- two
        select 2
        """
        text = cls(_joined([str(part) for part in parts], labels))
        text.queries = tuple(query for part in parts for query in part.queries)
        text.labels = tuple(labels)
        return text

    @classmethod
    def none(cls, reason: str) -> SQL:
        """No query ran (the work was done in Python on data given): a comment saying why.

        It reads the same in every dialect.

        Examples
        --------
        >>> print(SQL.none("the models ran on the path summary given").to("spark"))
        -- no query: the models ran on the path summary given
        """
        text = cls(f"-- no query: {reason}")
        text.empty = True
        return text

    def to(self, dialect: str) -> SQL:
        """The same queries in another dialect: ``spark``, ``bigquery``, ``snowflake``, ``trino``...

        Ibis compiles each query for that engine; a query the engine's compiler
        cannot take as built for DuckDB (a DuckDB-only time part, or Spark
        without pyspark installed) is translated from DuckDB's SQL by sqlglot.
        """
        if self.empty and dialect in DIALECTS:
            return self
        if not self.queries:
            raise ParameterError(
                "dialect", dialect, reason="This SQL was written by hand, not built from Ibis."
            )
        if dialect not in DIALECTS:
            raise ParameterError("dialect", dialect, allowed=DIALECTS)
        return SQL(_joined([_translated(q, dialect) for q in self.queries], self.labels))

    def _repr_markdown_(self) -> str:
        return f"```sql\n{self}\n```"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))
