"""Event rules: which events put a person in a stage or a funnel step.

A rule names one or more events and may add property conditions with typed
comparisons and an n-th occurrence ("the second purchase")::

    decision:                       # any of these events
      events: [add_to_cart, begin_checkout]
      where: {device: mobile, value: {">=": 100}, country: {in: [DE, AT]}}
    repeat_purchase:
      events: [purchase]
      nth: 2                        # the person's second matching event

A condition's field is a canonical column or else a ``properties`` key. A
number compares as a number (text that is not a number never matches), a
boolean as ``true``/``false``, anything else as text. A missing value matches
only ``!=`` and ``not in``. Values are bound as
literals, never spliced into SQL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir

from journeylib.core.errors import ParameterError, whole_number
from journeylib.model.events import property_text

#: comparison operators a condition may use
OPERATORS = ("==", "!=", "<", "<=", ">", ">=", "in", "not in")
Scalar = str | int | float | bool


@dataclass(frozen=True)
class Condition:
    """``field op value``: a column or ``properties`` key compared with a literal."""

    field: str
    op: str
    value: Scalar | tuple[Scalar, ...]

    def holds(self, t: ir.Table) -> ir.BooleanValue:
        """The condition as a boolean expression over the events table ``t``."""
        listed = self.value if isinstance(self.value, tuple) else (self.value,)
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in listed)
        field = _field(t, self.field, numeric)
        values: list[Any] = [_literal(v, numeric) for v in listed]
        # a missing value is not equal to anything: "!=" and "not in" hold for it
        if self.op == "in":
            return field.isin(values).fill_null(False)
        if self.op == "not in":
            return field.notin(values).fill_null(True)
        compare = {
            "==": field.__eq__,
            "!=": field.__ne__,
            "<": field.__lt__,
            "<=": field.__le__,
            ">": field.__gt__,
            ">=": field.__ge__,
        }[self.op]
        return compare(values[0]).fill_null(self.op == "!=")

    def plain_value(self) -> Any:
        """The compared value as written in a stage map (a list for ``in``)."""
        return list(self.value) if isinstance(self.value, tuple) else self.value


def _field(t: ir.Table, name: str, numeric: bool) -> ir.Value:
    if name in t.columns:
        column = t[name]
        if numeric:
            return (
                column if column.type().is_numeric() else column.cast("string").try_cast("float64")
            )
        return column.cast("string")
    value = property_text(t, name)
    return value.try_cast("float64") if numeric else value


def _literal(value: Scalar, numeric: bool) -> Any:
    if numeric:
        return float(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class EventRule:
    """Events by name, optionally with conditions and an n-th occurrence per person.

    Examples
    --------
    >>> rule = EventRule.parse({"events": ["purchase"], "where": {"value": {">=": 50}}, "nth": 2})
    >>> rule.events, rule.nth, rule.spec()
    (('purchase',), 2, {'events': ['purchase'], 'where': {'value': {'>=': 50}}, 'nth': 2})
    """

    events: tuple[str, ...]
    where: tuple[Condition, ...] = ()
    nth: int | None = None

    @classmethod
    def parse(
        cls, spec: str | Sequence[str] | Mapping[str, Any] | EventRule, label: str = ""
    ) -> EventRule:
        """A rule from an event name, a list of names, or ``{events, where, nth}``."""
        if isinstance(spec, EventRule):
            return spec
        where_label = f" (in {label!r})" if label else ""
        if isinstance(spec, Mapping):
            unknown = sorted(set(spec) - {"events", "event", "where", "nth"})
            if unknown:
                raise ParameterError(
                    "stages",
                    unknown[0],
                    allowed=["events", "where", "nth"],
                    reason=f"Unknown key in an event rule{where_label}.",
                )
            names = _names(spec.get("events", spec.get("event")), where_label)
            nth = spec.get("nth")
            if nth is not None:
                nth = whole_number("nth", nth)
            return cls(names, _conditions(spec.get("where") or {}, where_label), nth)
        return cls(_names(spec, where_label))

    def matches(self, t: ir.Table) -> ir.BooleanValue:
        """Events of ``t`` with one of the names that meet every condition (``nth`` aside)."""
        return ibis.and_(t.event_name.isin(list(self.events)), *[c.holds(t) for c in self.where])

    def rows(self, t: ir.Table) -> ir.Table:
        """The events of ``t`` this rule picks, the n-th per person when ``nth`` is set.

        Examples
        --------
        >>> import journeylib as jl, pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "e.csv"
        >>> _ = path.write_text("user_id,event_name,event_time\\n"
        ...     "a,buy,2024-01-01T10:00:00Z\\na,buy,2024-01-02T10:00:00Z\\nb,buy,2024-01-01T10:00:00Z\\n")
        >>> ws = jl.open(); _ = ws.load_events(path); t = ws.events().table
        >>> ws.events().engine.run(EventRule(("buy",), nth=2).rows(t).select("user_id")).user_id.tolist()
        ['a']
        """
        picked = t.filter(self.matches(t))
        if self.nth is None:
            return picked
        order = ibis.row_number().over(group_by="user_id", order_by=["event_time", "event_id"])
        numbered = picked.mutate(_occurrence=order)
        return numbered.filter(numbered._occurrence == self.nth - 1).drop("_occurrence")

    def spec(self) -> Any:
        """The rule as written in a stage map: a list of names, or ``{events, where, nth}``."""
        if not self.where and self.nth is None:
            return list(self.events)
        out: dict[str, Any] = {"events": list(self.events)}
        if self.where:
            fields: dict[str, dict[str, Any]] = {}
            for c in self.where:
                fields.setdefault(c.field, {})[c.op] = c.plain_value()
            out["where"] = {
                field: tests["=="] if list(tests) == ["=="] else tests
                for field, tests in fields.items()
            }
        if self.nth is not None:
            out["nth"] = self.nth
        return out


def picked(t: ir.Table, rules: Sequence[str | EventRule]) -> ir.Table:
    """The events of ``t`` that any of ``rules`` picks (an event name is a rule), each once.

    Examples
    --------
    >>> import journeylib as jl, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "e.csv"
    >>> _ = path.write_text("user_id,event_name,event_time\\n"
    ...     "a,buy,2024-01-01T10:00:00Z\\na,buy,2024-01-02T10:00:00Z\\na,view,2024-01-03T10:00:00Z\\n")
    >>> ws = jl.open(); _ = ws.load_events(path); t = ws.events().table
    >>> chosen = picked(t, ["view", EventRule(("buy",), nth=2), EventRule(("buy",), nth=2)])
    >>> ws.events().engine.run(chosen.order_by("event_time")).event_time.dt.day.tolist()
    [2, 3]
    """
    listed = [EventRule.parse(rule) for rule in rules]
    if all(rule.nth is None for rule in listed):
        return t.filter(ibis.or_(*[rule.matches(t) for rule in listed]))
    ids = ibis.union(*[rule.rows(t).select("event_id") for rule in listed], distinct=True)
    return t.semi_join(ids, "event_id")


def _names(value: Any, where_label: str) -> tuple[str, ...]:
    listed = [value] if isinstance(value, str) else list(value or [])
    if not listed or not all(isinstance(e, str) and e for e in listed):
        raise ParameterError("stages", value, reason=f"Name one or more events{where_label}.")
    return tuple(listed)


def _conditions(where: Any, where_label: str) -> tuple[Condition, ...]:
    if not isinstance(where, Mapping):
        raise ParameterError(
            "where",
            where,
            reason=f"Give a mapping of field to value or {{operator: value}}{where_label}.",
        )
    out = []
    for field, test in where.items():
        tests = test if isinstance(test, Mapping) else {"==": test}
        for op, value in tests.items():
            if op not in OPERATORS:
                raise ParameterError(
                    "where", op, allowed=OPERATORS, reason=f"Unknown operator for {field!r}."
                )
            out.append(Condition(str(field), op, _value(field, op, value)))
    return tuple(out)


def _value(field: str, op: str, value: Any) -> Scalar | tuple[Scalar, ...]:
    listed = op in ("in", "not in")
    values = list(value) if listed and isinstance(value, list | tuple) else [value]
    if not all(isinstance(v, str | int | float | bool) for v in values) or (listed and not values):
        kind = "a list of values" if listed else "one text, number or true/false"
        raise ParameterError("where", value, reason=f"Compare {field!r} with {kind}.")
    return tuple(values) if listed else values[0]


__all__ = ["OPERATORS", "Condition", "EventRule", "picked"]
