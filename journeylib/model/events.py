"""The immutable handle analyses read: a workspace's events, scoped.

``Events`` holds an Ibis table expression over the canonical ``events``
table: its canonical columns and, in a workspace, the store's integer
``person_key`` and ``event_code`` that native plans join and group on
(ADR 0036). Scoping verbs (:meth:`Events.where`, :meth:`Events.between`) return a
new handle; nothing is executed until an analysis runs.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Literal, TypeAlias, cast

import ibis
import ibis.expr.types as ir
import pandas as pd

from journeylib.core.engine import Engine
from journeylib.core.errors import ParameterError, whole_number
from journeylib.core.schema import EVENT_COLUMNS, EVENT_LAYOUT_COLUMNS
from journeylib.core.sql import json_path

#: what an analysis counts: people (``user_id``) or their sessions (``session_id``)
Unit = Literal["user", "session"]

Predicate: TypeAlias = "ir.BooleanValue | Callable[[ir.Table], ir.BooleanValue]"


@dataclass(frozen=True)
class Events:
    """A scoped, immutable view of canonical events.

    Examples
    --------
    >>> import journeylib as jl
    >>> ws = jl.open()
    >>> ev = ws.events().where(event_name="purchase").between("2024-01-01", "2024-02-01")
    >>> ev.count()
    0
    """

    engine: Engine
    table: ir.Table
    #: the whole table the handle was opened on, before any scope (:meth:`known_event_names`)
    root: ir.Table | None = None

    @classmethod
    def over(cls, engine: Engine, table: ir.Table) -> Events:
        """A handle over ``table``, which must have the canonical event columns."""
        missing = [c for c in EVENT_COLUMNS if c not in table.columns and c != "origin"]
        if missing:
            raise ParameterError(
                "events", list(table.columns), reason=f"Missing canonical columns: {missing}."
            )
        return cls(engine, table, table)

    def where(self, *predicates: Predicate, **equals: Any) -> Events:
        """Keep events matching every predicate and every ``column=value``.

        Predicates are Ibis boolean expressions or functions of the table.
        ``properties`` fields are reached with :meth:`prop`.
        """
        table = self.table
        conditions = []
        for predicate in predicates:
            conditions.append(predicate(table) if callable(predicate) else predicate)
        for name, value in equals.items():
            if name not in table.columns:
                raise ParameterError("where", name, allowed=table.columns, reason="No such column.")
            column = table[name]
            conditions.append(
                column.isin(list(value))
                if isinstance(value, list | tuple | set)
                else column == value
            )
        return replace(self, table=table.filter(conditions)) if conditions else self

    def between(
        self, start: str | date | datetime | None, end: str | date | datetime | None
    ) -> Events:
        """Keep events with ``start <= event_time < end`` (either side may be None)."""
        table = self.table
        conditions = []
        if start is not None:
            conditions.append(table.event_time >= _timestamp(start, "start"))
        if end is not None:
            conditions.append(table.event_time < _timestamp(end, "end"))
        return replace(self, table=table.filter(conditions)) if conditions else self

    def prop(self, name: str) -> ir.StringValue:
        """A ``properties`` key's text value, for use in :meth:`where` and breakdowns.

        ``name`` is a key (``$browser``, ``a.b``), as :func:`property_json` reads it.
        """
        return property_json(self.table, name).str

    def value(self, name: str, *, param: str = "by") -> ir.StringValue:
        """A column, or else a ``properties`` key, as text (for breakdowns and cohorts).

        Raises a ParameterError naming ``param`` when neither a column nor any
        event's ``properties`` key has that name.
        """
        t = self.table
        if name in t.columns:
            return t[name].cast("string")
        if t.properties.type().is_json():
            value = property_text(t, name)
            found = self.engine.run(
                t.aggregate(n=value.notnull().sum()), what=f"looking up the {param} key"
            )
            if int(cast(int, found.n.fillna(0).iat[0])) > 0:
                return value
        raise ParameterError(
            param,
            name,
            allowed=[*t.columns, *self.property_keys()],
            reason="No such column, and no event has this properties key (columns first,"
            " then properties keys).",
        )

    def property_keys(self, limit: int = 40) -> list[str]:
        """The top-level ``properties`` keys of events in scope, most common first.

        Examples
        --------
        >>> import pathlib, tempfile, journeylib as jl
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "e.csv"
        >>> _ = path.write_text("user_id,event_name,event_time,plan,$browser\\n"
        ...                     "u1,open,2024-01-01T10:00:00Z,pro,firefox\\n")
        >>> ws = jl.open()
        >>> _ = ws.load_events(path)
        >>> ws.events().property_keys()
        ['$browser', 'plan']
        """
        if self.engine.name != "duckdb" or not self.table.properties.type().is_json():
            return []
        query = ibis.to_sql(self.table.select("properties"), dialect="duckdb")
        frame = self.engine.frame(
            "select key from (select unnest(json_keys(properties)) as key from"
            f" ({query})) group by key order by count(*) desc, key limit ?",
            [limit],
        )
        return [str(k) for k in frame.key]

    def count(self) -> int:
        """Number of events in scope."""
        frame = self.engine.run(self.table.count().as_table(), what="counting events")
        return int(cast(int, frame.iat[0, 0]))

    def event_names(self) -> list[str]:
        """The distinct event names in scope, sorted."""
        names = self.table.select("event_name").distinct().order_by("event_name")
        frame = self.engine.run(names, what="listing event names")
        return [str(n) for n in frame.event_name.dropna()]

    def known_event_names(self) -> list[str]:
        """The distinct event names of the whole data, whatever the scope, sorted.

        A name absent here is absent from the data, not merely from this scope.

        Examples
        --------
        >>> import journeylib as jl
        >>> jl.open().events().where(event_name="purchase").known_event_names()
        []
        """
        if self.root is None:
            return self.event_names()
        return replace(self, table=self.root).event_names()

    def frequent_event_names(self, top: int) -> list[str]:
        """The ``top`` event names in scope by number of events, most frequent first (ties by name)."""
        t = self.table
        counts = t.group_by("event_name").aggregate(n=t.count())
        ranked = counts.order_by([ibis.desc("n"), "event_name"]).limit(top)
        return [str(n) for n in self.engine.run(ranked, what="listing event names").event_name]

    def to_pandas(self, limit: int | None = None) -> pd.DataFrame:
        """The events in scope as a DataFrame, ordered by time: all of them, or the first ``limit``.

        When ``limit`` leaves events out, a warning says how many of how many came back.
        The columns are those the events were given or loaded with, without the
        store's integer keys (ADR 0036).

        Examples
        --------
        >>> import journeylib as jl, warnings
        >>> ev = jl.datasets.sample_or("").events().where(event_name="purchase")
        >>> len(ev.to_pandas()) == ev.count(), "person_key" in ev.to_pandas().columns
        (True, False)
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always", UserWarning)
        ...     first = ev.to_pandas(limit=10)
        >>> len(first), str(caught[0].message)
        (10, 'to_pandas returned the first 10 of 2,517 events in scope; limit=None returns all.')
        """
        if limit is not None:
            whole_number("limit", limit)
        layout = [c for c in EVENT_LAYOUT_COLUMNS if c in self.table.columns]
        expr = self.table.drop(*layout).order_by(["event_time", "event_id"])
        if limit is None:
            return self.engine.run(expr, what="reading events")
        frame = self.engine.run(expr.limit(limit + 1), what="reading events")
        if len(frame) > limit:
            warnings.warn(
                f"to_pandas returned the first {limit:,} of {self.count():,} events in scope;"
                " limit=None returns all.",
                UserWarning,
                stacklevel=2,
            )
            frame = frame.iloc[:limit]
        return frame


def property_json(t: ir.Table, name: str) -> ir.JSONValue:
    """A ``properties`` key's value, ``name`` read as a key, never as a JSON path.

    ``$browser`` is the key ``$browser`` and ``a.b`` the key ``a.b``. Where an
    event has no key of that name, a dotted name reaches the nested key
    (``device.category``: the ``category`` of ``device``). On engines other
    than DuckDB the name is handed to the engine's own JSON lookup.

    Examples
    --------
    >>> t = ibis.table({"properties": "json"}, name="events")
    >>> '$."$browser"' in ibis.to_sql(t.select(b=property_json(t, "$browser")))
    True
    """
    if not _keys_are_quoted(t):
        return t.properties[name]
    field = t.properties[json_path(name)]
    if "." in name:
        field = ibis.coalesce(field, t.properties[json_path(*name.split("."))])
    return field


def _keys_are_quoted(t: ir.Table) -> bool:
    """Whether ``t`` runs on DuckDB (or on no engine yet), whose JSON paths quote keys."""
    try:
        return str(ibis.get_backend(t).name) == "duckdb"
    except Exception:  # an unbound table: compiled to DuckDB's SQL
        return True


def property_text(t: ir.Table, name: str) -> ir.StringValue:
    """A ``properties`` key as text: numbers and booleans as written, a JSON null as NULL."""
    field = property_json(t, name)
    text = field.cast("string")
    return ibis.coalesce(field.str, ibis.cases((text != "null", text)))


def _timestamp(value: str | date | datetime, param: str) -> ir.TimestampScalar:
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise ParameterError(
            param, value, reason="Give a date or time, e.g. '2024-01-31'."
        ) from None
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return ibis.literal(stamp.to_pydatetime(), type="timestamp('UTC')")
