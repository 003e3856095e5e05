"""The one place that quotes SQL, and the type that shows SQL to people.

Loaders build raw DuckDB reader SQL (``read_csv``, ``read_json``,
``read_parquet``). Identifiers in that SQL go through :func:`ident`; values are
bound as ``?`` parameters, or, where DuckDB accepts no parameter (some reader
options), through :func:`literal`. No other module quotes anything.
"""

from __future__ import annotations

from typing import Any


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
    if isinstance(value, int | float):
        return repr(value)
    if "\x00" in value:
        raise ValueError("SQL strings cannot contain NUL characters")
    return "'" + value.replace("'", "''") + "'"


def json_path(*keys: str) -> str:
    """A JSON path literal for ``json_extract`` that reaches nested keys safely.

    Examples
    --------
    >>> json_path("context", "campaign", "source")
    '$."context"."campaign"."source"'
    """
    return "$" + "".join('."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"' for key in keys)


class SQL(str):
    """SQL text that renders as a highlighted block in Jupyter.

    Examples
    --------
    >>> SQL("select 1")._repr_markdown_()
    '```sql\\nselect 1\\n```'
    """

    def _repr_markdown_(self) -> str:
        return f"```sql\n{self}\n```"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))
