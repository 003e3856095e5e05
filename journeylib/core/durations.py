"""Durations with units: ``"30m"``, ``"7d"`` or a :class:`datetime.timedelta`.

Bare numbers are rejected, so a window is never silently read in the wrong unit.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from journeylib.core.errors import ParameterError

_UNITS = {
    "us": timedelta(microseconds=1),
    "ms": timedelta(milliseconds=1),
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|m|h|d|w)\s*$")

Duration = str | timedelta


def parse_duration(value: Duration, *, param: str = "duration") -> timedelta:
    """Turn ``"30m"``, ``"7d"``, ``"1.5h"`` or a timedelta into a positive timedelta.

    Examples
    --------
    >>> parse_duration("7d")
    datetime.timedelta(days=7)
    >>> parse_duration("90m").total_seconds()
    5400.0
    """
    if isinstance(value, timedelta):
        result = value
    elif isinstance(value, str) and (match := _PATTERN.match(value)):
        result = float(match.group(1)) * _UNITS[match.group(2)]
    else:
        raise ParameterError(
            param,
            value,
            reason="Give a number with a unit (us, ms, s, m, h, d, w), e.g. '30m' or '7d'.",
        )
    if result <= timedelta(0):
        raise ParameterError(param, value, reason="A duration must be positive.")
    return result


def to_microseconds(value: Duration, *, param: str = "duration") -> int:
    """The duration in whole microseconds, the engine's unit for time arithmetic.

    Examples
    --------
    >>> to_microseconds("1s")
    1000000
    """
    delta = parse_duration(value, param=param)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def interval(window: timedelta) -> ir.IntervalScalar:
    """The window as an engine interval: whole seconds when it has no fraction, else microseconds.

    Examples
    --------
    >>> [str(interval(w).type()) for w in (timedelta(days=7), timedelta(milliseconds=1500))]
    ["interval('s')", "interval('us')"]
    """
    micros = window // timedelta(microseconds=1)
    if micros % 1_000_000 == 0:
        return ibis.interval(seconds=micros // 1_000_000)
    return ibis.interval(microseconds=micros)


def epoch_parts(t: ir.TimestampValue) -> tuple[ir.FloatingValue, ir.FloatingValue]:
    """Whole seconds since the epoch and the milliseconds, kept apart.

    Durations are measured to the millisecond on every engine: Ibis' PySpark
    backend cannot extract microseconds, and ``epoch_seconds`` is whole seconds
    on some engines and fractional on others (so it is floored). Subtracting the
    parts apart keeps the sub-second digits that a difference of two large epoch
    values would lose to floating point.
    """
    whole: ir.FloatingValue = t.epoch_seconds().cast("float64").floor().cast("float64")
    fraction: ir.FloatingValue = t.millisecond().cast("float64") / 1_000.0
    return whole, fraction


def _epoch_us_signature(t: Any) -> Any:
    """DuckDB's ``epoch_us``: microseconds since 1970-01-01 00:00 UTC."""


#: DuckDB's ``epoch_us`` (DuckDB only): integer arithmetic, where extracting the
#: parts of a time with a zone goes through ICU and costs seconds per 10M events
epoch_us: Callable[[ir.TimestampValue], ir.IntegerValue] = ibis.udf.scalar.builtin(
    _epoch_us_signature, name="epoch_us", signature=((dt.timestamp,), dt.int64)
)


def microsecond_parts(us: ir.IntegerValue) -> tuple[ir.FloatingValue, ir.FloatingValue]:
    """:func:`epoch_parts` from integer microseconds since the epoch: the same two values.

    Examples
    --------
    >>> import ibis
    >>> t = ibis.memtable({"us": [-1_500_000, 3_250_999]})
    >>> whole, fraction = microsecond_parts(t.us)
    >>> ibis.duckdb.connect().execute(t.select(w=whole, f=fraction)).values.tolist()
    [[-2.0, 0.5], [3.0, 0.25]]
    """
    whole = (us.cast("float64") / 1_000_000.0).floor()
    rest = ((us - whole * 1_000_000).cast("float64") / 1_000.0).floor()
    return whole.cast("float64"), rest.cast("float64") / 1_000.0


def elapsed_between(
    start: tuple[ir.FloatingValue, ir.FloatingValue],
    stop: tuple[ir.FloatingValue, ir.FloatingValue],
) -> ir.FloatingValue:
    """Seconds between two (whole seconds, fraction) pairs, subtracted apart."""
    return (stop[0] - start[0]) + (stop[1] - start[1])


def elapsed_seconds(start: ir.TimestampValue, stop: ir.TimestampValue) -> ir.FloatingValue:
    """Seconds from ``start`` to ``stop``, the same on every engine (see :func:`epoch_parts`).

    Examples
    --------
    >>> import ibis
    >>> from datetime import datetime, timezone
    >>> t = ibis.memtable({"a": [datetime(2024, 1, 1, 10, 0, 0, 250000, tzinfo=timezone.utc)],
    ...                    "b": [datetime(2024, 1, 1, 10, 0, 3, 500000, tzinfo=timezone.utc)]})
    >>> ibis.duckdb.connect().execute(t.select(s=elapsed_seconds(t.a, t.b))).s.tolist()
    [3.25]
    """
    return elapsed_between(epoch_parts(start), epoch_parts(stop))
