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
import ibis.expr.datatypes as dt
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

        ``name`` is a key (``$browser``, ``a.b``), as :func:`property_text` reads it;
        a value that is not a string reads as NULL.
        """
        return property_string(self.table, name)

    def value(self, name: str, *, param: str = "by") -> ir.StringValue:
        """A column, or else a ``properties`` key, as text (for breakdowns and cohorts).

        Raises a ParameterError naming ``param`` when neither a column nor any
        event's ``properties`` key has that name.
        """
        t = self.table
        if name in t.columns:
            return t[name].cast("string")
        if t.properties.type().is_json():
            # a dotted name that no event has as a key reads only the nested key: on a
            # VARIANT, looking up a key some events lack reads every event's whole
            # properties, while asking whether it exists does not
            reaches: list[Reach] = ["key", "nested"] if "." in name else ["key"]
            counts = self._counts({r: _may_have(t, name, r) for r in reaches}, param)
            if counts["key"] and (
                not _is_variant(t) or self._counts({"key": _has(t, name)}, param)["key"]
            ):
                return property_text(t, name)
            if counts.get("nested"):
                return property_text(t, name, reach="nested")
        raise ParameterError(
            param,
            name,
            allowed=[*t.columns, *self.property_keys()],
            reason="No such column, and no event has this properties key (columns first,"
            " then properties keys).",
        )

    def _counts(self, conditions: dict[str, ir.BooleanValue], param: str) -> dict[str, int]:
        """How many events in scope meet each condition."""
        found = self.engine.run(
            self.table.aggregate(**{k: c.sum() for k, c in conditions.items()}),
            what=f"looking up the {param} key",
        )
        return {str(k): int(cast(int, n)) for k, n in found.fillna(0).iloc[0].items()}

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
        keys = "variant_keys" if _is_variant(self.table) else "json_keys"
        query = ibis.to_sql(self.table.select("properties"), dialect="duckdb")
        frame = self.engine.frame(
            f"select key from (select unnest({keys}(properties)) as key from"
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
        expr = self.table.drop(*layout)
        if _is_variant(expr):  # pandas would get a VARIANT's bytes: its JSON text instead
            expr = expr.mutate(properties=_variant_json(expr.properties))
        expr = expr.order_by(["event_time", "event_id"])
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


#: how a name reaches a ``properties`` value: as a key, through its dots as nested keys,
#: or as a key where the event has it and else nested (the rule of :func:`property_text`)
Reach = Literal["key", "nested", "key or nested"]


def property_text(t: ir.Table, name: str, *, reach: Reach = "key or nested") -> ir.StringValue:
    """A ``properties`` key as text: numbers and booleans as written, a JSON null as NULL.

    ``name`` is read as a key, never as a JSON path: ``$browser`` is the key
    ``$browser`` and ``a.b`` the key ``a.b``. Where an event has no key of
    that name, a dotted name reaches the nested key (``device.category``: the
    ``category`` of ``device``); ``reach`` narrows that to one of the two. On
    engines other than DuckDB the name is handed to the engine's own JSON
    lookup. An object or a list reads as its JSON text.

    Examples
    --------
    >>> t = ibis.table({"properties": "json"}, name="events")
    >>> '$."$browser"' in ibis.to_sql(t.select(b=property_text(t, "$browser")))
    True
    >>> t = ibis.table({"properties": "jsonb"}, name="events")
    >>> "VARIANT_EXTRACT" in ibis.to_sql(t.select(b=property_text(t, "$browser")))
    True
    """
    field = _field(t, name, reach)
    if _is_variant(t):
        shape = _variant_typeof(field)
        nested = shape.startswith("OBJECT") | shape.startswith("ARRAY")
        text = _variant_json(field).cast("string")
        return ibis.cases((nested, text), else_=field.cast("string"))
    text = field.cast("string")
    return ibis.coalesce(field.str, ibis.cases((text != "null", text)))


def property_string(t: ir.Table, name: str) -> ir.StringValue:
    """A ``properties`` key's value where it is a string, else NULL (read as :func:`property_text`).

    Examples
    --------
    >>> t = ibis.table({"properties": "jsonb"}, name="events")
    >>> "'VARCHAR'" in ibis.to_sql(t.select(b=property_string(t, "plan")))
    True
    """
    field = _field(t, name, "key or nested")
    if _is_variant(t):
        return ibis.cases((_variant_typeof(field) == "VARCHAR", field.cast("string")))
    return field.str


def _has(t: ir.Table, name: str, reach: Reach = "key or nested") -> ir.BooleanValue:
    """Whether the event has a non-null value at ``name``, read as :func:`property_text`."""
    if _is_variant(t):  # a VARIANT's JSON null reads as NULL already
        return _field(t, name, reach).notnull()
    return property_text(t, name, reach=reach).notnull()


def _may_have(t: ir.Table, name: str, reach: Reach) -> ir.BooleanValue:
    """Whether the event may have a value at ``name``.

    As :func:`_has`, but a VARIANT's key is only checked to exist (cheap where
    some events lack it), so its value may be null.
    """
    if _is_variant(t) and reach == "key":
        return _variant_exists(t.properties, name)
    return _has(t, name, reach)


def _is_variant(t: ir.Table) -> bool:
    """Whether ``t.properties`` is a DuckDB ``VARIANT`` (typed ``jsonb``: Engine.table)."""
    kind = t.properties.type()
    return isinstance(kind, dt.JSON) and kind.binary


_VARIANT = dt.JSON(binary=True)
_variant_extract = ibis.udf.scalar.builtin(
    lambda value, key: None, name="variant_extract", signature=((_VARIANT, dt.string), _VARIANT)
)
_variant_exists = ibis.udf.scalar.builtin(
    lambda value, key: None, name="variant_exists", signature=((_VARIANT, dt.string), dt.boolean)
)
_variant_typeof = ibis.udf.scalar.builtin(
    lambda value: None, name="variant_typeof", signature=((_VARIANT,), dt.string)
)
_variant_json = ibis.udf.scalar.builtin(
    lambda value: None, name="to_json", signature=((_VARIANT,), dt.json)
)


def _field(t: ir.Table, name: str, reach: Reach) -> ir.JSONValue:
    """The value at ``name``, reached as ``reach``.

    A VARIANT's through ``variant_extract`` (which reads keys, not paths), JSON
    text's through a path that quotes its keys on DuckDB.
    """
    if reach == "key or nested" and "." in name:
        return ibis.coalesce(_field(t, name, "key"), _field(t, name, "nested"))
    parts = name.split(".") if reach == "nested" else [name]
    if _is_variant(t):
        field = t.properties
        for part in parts:
            field = _variant_extract(field, part)
        return field
    if not _keys_are_quoted(t):  # another engine's own lookup
        return t.properties[name]
    return t.properties[json_path(*parts)]


def _keys_are_quoted(t: ir.Table) -> bool:
    """Whether ``t`` runs on DuckDB (or on no engine yet), whose JSON paths quote keys."""
    try:
        return str(ibis.get_backend(t).name) == "duckdb"
    except Exception:  # an unbound table: compiled to DuckDB's SQL
        return True


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
