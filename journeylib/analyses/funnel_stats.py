"""Time to convert between two funnel steps, with a Kaplan-Meier view.

Each unit's best attempt (as in :func:`journeylib.funnel`) gives the time from
step ``a`` to step ``b``. Units that reached ``a`` but not ``b`` are right-censored:
at the close of their window, or at the end of the data when their window is
still open (in progress). The engine returns one row per (duration in seconds,
converted or censored); the Kaplan-Meier product runs over those small counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from journeylib.core.durations import Duration, elapsed_seconds, interval
from journeylib.core.errors import ParameterError
from journeylib.core.sql import SQL
from journeylib.display.registry import analysis
from journeylib.display.result import Result, lazy_chart
from journeylib.model.events import Events, Unit
from journeylib.model.levels import Mode, StepsSpec, WindowFrom, unit_levels
from journeylib.model.statistics import kaplan_meier, wilson

COLUMNS = ["seconds", "converted", "censored", "at_risk", "survival", "converted_share"]


@analysis(columns=COLUMNS, counts=("converted", "censored", "at_risk"))
def time_to_convert(
    ev: Events,
    steps: Sequence[str],
    within: Duration = "7d",
    mode: Mode = "ordered",
    *,
    from_step: int = 1,
    to_step: int | None = None,
    unit: Unit = "user",
    window_from: WindowFrom = "entry",
) -> Result:
    """Seconds from step ``from_step`` to ``to_step`` (1-based, default last), censoring-aware.

    ``table``: one row per distinct duration (seconds) with ``converted`` and
    ``censored`` units, ``at_risk`` just before it, the Kaplan-Meier
    ``survival`` (share not yet converted) and ``converted_share`` (1 - survival).
    ``extras["summary"]``: units, converted, censored, in_progress, and the
    median/mean seconds among converters.

    Examples
    --------
    >>> import journeylib as jl, pathlib, tempfile
    >>> csv = pathlib.Path(tempfile.mkdtemp()) / "events.csv"
    >>> day = "user_id,event_name,event_time\\n" + "\\n".join(
    ...     f"{user},{name},2024-01-0{d}T10:{m}:00Z" for user, name, d, m in
    ...     [("a", "view", 1, "00"), ("a", "cart", 1, "05"), ("b", "view", 1, "00"),
    ...      ("b", "other", 3, "00")])
    >>> _ = csv.write_text(day)
    >>> r = time_to_convert(jl.read_events(csv), ["view", "cart"], within="1d")
    >>> r.table[["seconds", "converted", "censored", "at_risk"]].values.tolist()
    [[300.0, 1.0, 0.0, 2.0], [86400.0, 0.0, 1.0, 1.0]]
    >>> r.table.converted_share.tolist()
    [0.5, 0.5]
    """
    size = len(steps)
    last = size if to_step is None else to_step
    if not 1 <= from_step < last <= size:
        raise ParameterError(
            "to_step",
            (from_step, to_step),
            reason=f"Need 1 <= from_step < to_step <= {size} (the number of steps).",
        )
    spec = TimeToConvertSpec(
        _names(steps), within, mode, unit, window_from, from_step=from_step, to_step=last
    )
    levels = _levels(ev, spec)
    data_end = ev.table.event_time.max().as_scalar()
    counts = _counts(levels, from_step, last, interval(spec.window), data_end, window_from)
    frame = ev.engine.run(counts, what="the time to convert")
    table = kaplan_meier(frame)
    converters = frame[frame.converted_flag == 1]
    total = int(frame.units.sum())
    converted = int(converters.units.sum())
    seconds = pd.Series(
        np.repeat(converters.seconds.to_numpy(), converters.units.to_numpy()), dtype="float64"
    )
    summary = pd.DataFrame(
        {
            "units": [total],
            "converted": [converted],
            "censored": [total - converted],
            "in_progress": [int(frame.in_progress.sum())],
            "median_seconds": [float(seconds.median()) if converted else float("nan")],
            "mean_seconds": [float(seconds.mean()) if converted else float("nan")],
        }
    )
    return Result(
        f"Time from {steps[from_step - 1]} to {steps[last - 1]}",
        table,
        SQL.of(counts),
        spec.params(),
        draw=lazy_chart("funnel", "survival_chart"),
        extras={"summary": summary},
    )


@dataclass(frozen=True)
class TimeToConvertSpec(StepsSpec):
    """The parameters of :func:`time_to_convert`, checked when made."""

    from_step: int = 1
    to_step: int | None = None


@dataclass(frozen=True)
class TrendedFunnelSpec(StepsSpec):
    """The parameters of :func:`trended_funnel`, checked when made."""

    every: Literal["day", "week"] = "week"


def _names(steps: Sequence[str]) -> tuple[str, ...]:
    if len(steps) < 2 or isinstance(steps, str):
        raise ParameterError("steps", steps, reason="Give two or more event names, in order.")
    return tuple(str(s) for s in steps)


def _levels(ev: Events, spec: StepsSpec) -> ir.Table:
    """Each unit's best attempt (``unit_levels``) under a checked spec."""
    return unit_levels(
        ev, list(spec.steps), spec.window, spec.mode, unit=spec.unit, window_from=spec.window_from
    )


def _counts(
    levels: ir.Table,
    a: int,
    b: int,
    span: ir.IntervalScalar,
    data_end: ir.TimestampScalar,
    window_from: str,
) -> ir.Table:
    """Units per (seconds after step a, converted or censored), and how many are in progress."""
    started = levels.filter(levels.level >= a)
    ta = started[f"t{a}"]
    last_reached = ibis.coalesce(*[started[f"t{k}"] for k in range(b - 1, 0, -1)])
    close = (last_reached if window_from == "previous_step" else started.t1) + span
    end = ibis.least(close, data_end)
    converted = started.level >= b
    stop = ibis.cases((converted, started[f"t{b}"]), else_=end)
    rows = started.select(
        seconds=elapsed_seconds(ta, stop),
        converted_flag=converted.cast("int8"),
        open=(~converted & (close > data_end)).cast("int64"),
    )
    return rows.group_by(["seconds", "converted_flag"]).aggregate(
        units=rows.count(), in_progress=rows.open.sum()
    )


PERIODS = {"day": "D", "week": "W"}


@analysis(counts=("entered", "converted", "in_progress"))
def trended_funnel(
    ev: Events,
    steps: Sequence[str],
    within: Duration = "7d",
    mode: Mode = "ordered",
    *,
    every: Literal["day", "week"] = "week",
    unit: Unit = "user",
    window_from: WindowFrom = "entry",
) -> Result:
    """Conversion to the last step by entry period (``every="week"`` or ``"day"``).

    A unit belongs to the period of its best attempt's entry. Columns: ``period``,
    ``entered``, ``converted``, ``conversion_rate`` with its 95% Wilson interval,
    and ``in_progress`` (not converted yet, window still open when the data ends).

    Examples
    --------
    >>> import journeylib as jl, pathlib, tempfile
    >>> csv = pathlib.Path(tempfile.mkdtemp()) / "events.csv"
    >>> _ = csv.write_text("user_id,event_name,event_time\\n" + "\\n".join(
    ...     f"{u},{n},2024-01-{d}T09:00:00Z" for u, n, d in
    ...     [("a", "view", "01"), ("a", "buy", "02"), ("b", "view", "02"), ("c", "view", "09")]))
    >>> r = trended_funnel(jl.read_events(csv), ["view", "buy"], within="2d", every="week")
    >>> r.table[["entered", "converted", "conversion_rate", "in_progress"]].values.tolist()
    [[2.0, 1.0, 0.5, 0.0], [1.0, 0.0, 0.0, 1.0]]
    """
    spec = TrendedFunnelSpec(_names(steps), within, mode, unit, window_from, every=every)
    levels = _levels(ev, spec)
    size = len(steps)
    dated = levels.mutate(period=levels.t1.truncate(PERIODS[every]))
    counts = (
        dated.group_by("period")
        .aggregate(
            entered=dated.count(),
            converted=(dated.level >= size).sum().cast("int64"),
            in_progress=dated.in_progress.sum().cast("int64"),
        )
        .order_by("period")
    )
    table = ev.engine.run(counts, what="the trended funnel")
    table["conversion_rate"] = table.converted / table.entered
    bounds = [wilson(int(c), int(n)) for c, n in zip(table.converted, table.entered, strict=True)]
    table["conversion_low"] = [lo for lo, _ in bounds]
    table["conversion_high"] = [hi for _, hi in bounds]
    columns = ["period", "entered", "converted", "conversion_rate", "conversion_low"]
    table = table[[*columns, "conversion_high", "in_progress"]]
    name = f"Conversion from {steps[0]} to {steps[-1]} by entry {every}"
    return Result(
        name, table, SQL.of(counts), spec.params(), draw=lazy_chart("funnel", "trend_chart")
    )


__all__ = ["time_to_convert", "trended_funnel"]
