"""Funnels: how many units reach each step, with exact, switchable semantics (ADR 0006).

Each unit's best level comes from :func:`journeylib.model.levels.unit_levels`,
which says what the modes, windows and exclusions mean; this module counts the
units per step (per breakdown group), with conversion rates and Wilson
intervals, and names the units whose best attempt is still in progress.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from journeylib.core.durations import Duration, elapsed_seconds
from journeylib.core.errors import whole_number
from journeylib.core.sql import SQL
from journeylib.display.registry import analysis
from journeylib.display.result import Result, lazy_chart
from journeylib.model.events import Events, Unit
from journeylib.model.levels import (
    Mode,
    StepsSpec,
    WindowFrom,
    check_by_value,
    count_column,
    listed_windows,
    require_steps,
    step_rules,
    step_windows,
    unit_levels,
)
from journeylib.model.stages import Stages, require_stages
from journeylib.model.statistics import wilson

#: the stable columns the CLI's CSV and JSON carry, first
COLUMNS = ["step_index", "step", "users", "conversion_rate", "step_conversion_rate"]


@analysis(columns=COLUMNS, counts=("users", "sessions"))
def funnel(
    ev: Events,
    steps: Sequence[str] | Stages,
    within: Duration = "7d",
    mode: Mode = "ordered",
    *,
    by: str | None = None,
    exclude: Sequence[str] | None = None,
    unit: Unit = "user",
    window_from: WindowFrom = "entry",
    step_within: Sequence[Duration] | None = None,
    by_value: str = "first",
    max_groups: int = 12,
) -> Result:
    """How many units reached each step, with rates, intervals, timing and units in progress.

    The count column is ``users`` (``sessions`` with ``unit="session"``).
    ``by`` is a column or a ``properties`` key; each unit counts under its value
    on the best attempt's entry event (``by_value="first"``), on the last step it
    reached (``"last"``) or on step N (``"step:N"``, "(none)" before step N).
    The ``max_groups`` values with the most units entering keep their names and
    the rest are counted together as ``other``. ``step_within`` gives each step
    after the first its own window from the step before.

    Examples
    --------
    >>> import journeylib as jl, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "e.csv"
    >>> _ = path.write_text("user_id,event_name,event_time\\n"
    ...     "a,view,2024-01-01T10:00:00Z\\na,cart,2024-01-01T10:05:00Z\\na,buy,2024-01-03T10:00:00Z\\n"
    ...     "b,view,2024-01-01T10:00:00Z\\nb,buy,2024-01-01T11:00:00Z\\n")
    >>> ws = jl.open(); _ = ws.load_events(path)
    >>> f = funnel(ws.events(), ["view", "cart", "buy"], within="1d")
    >>> f.table[["step", "users", "conversion_rate"]].values.tolist()
    [['view', 2, 1.0], ['cart', 1, 0.5], ['buy', 0, 0.0]]
    """
    pairs = step_rules(steps)
    spec = FunnelSpec(
        tuple(label for label, _ in pairs),
        within,
        mode,
        unit,
        window_from,
        step_within=None if step_within is None else tuple(listed_windows(step_within)),
        by=by,
        by_value=by_value,
        exclude=tuple(str(e) for e in ([exclude] if isinstance(exclude, str) else exclude or [])),
        max_groups=max_groups,
        stages=steps.spec() if isinstance(steps, Stages) else None,
    )
    window = spec.window
    spans = step_windows(step_within, len(pairs), mode)
    param = "stages" if isinstance(steps, Stages) else "steps"
    require_steps(ev, pairs, param)
    if isinstance(steps, Stages):
        require_stages(ev, steps)
    names = list(spec.steps)
    excluded = list(spec.exclude)
    rules = [rule for _, rule in pairs]
    levels = unit_levels(
        ev,
        rules,
        window,
        mode,
        unit=unit,
        window_from=window_from,
        step_within=spans,
        by=by,
        by_value=by_value,
        exclude=excluded,
    )
    keys = [by] if by else []
    if by:
        whole_number("max_groups", max_groups)
        levels = _fold_small_groups(ev, levels, by, max_groups)
    summary = _summary(levels, len(names), keys)
    frame = ev.engine.run(summary, what="the funnel")
    table = _table(frame, names, keys).rename(columns={"users": count_column(unit)})
    kind = "Funnel" if mode == "ordered" else f"{mode.replace('_', ' ').capitalize()} funnel"
    name = kind + (" with step windows" if spans else "") + (f" by {by}" if by else "")
    return Result(
        name, table, SQL.of(summary), spec.params(), draw=lazy_chart("funnel", "funnel_chart")
    )


@dataclass(frozen=True)
class FunnelSpec(StepsSpec):
    """A funnel's parameters (see :func:`funnel`), checked when made.

    >>> FunnelSpec(("view", "buy"), "1d", by_value="step:3")
    Traceback (most recent call last):
    journeylib.core.errors.ParameterError: Invalid value 'step:3' for parameter 'by_value'. Allowed values: first, last, step:1, step:2. Did you mean 'step:2'?
    """

    step_within: tuple[Duration, ...] | None = None
    by: str | None = None
    by_value: str = "first"
    exclude: tuple[str, ...] = ()
    max_groups: int = 12
    stages: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        check_by_value(self.by_value, len(self.steps))
        whole_number("max_groups", self.max_groups)


def _fold_small_groups(ev: Events, levels: ir.Table, by: str, keep: int) -> ir.Table:
    """``by`` values beyond the ``keep`` with the most units become ``other`` (ties by name)."""
    sizes = levels.group_by(by).aggregate(n=levels.count())
    top = sizes.order_by([ibis.desc("n"), by]).limit(keep)
    kept = [str(v) for v in ev.engine.run(top, what="the largest breakdown groups")[by]]
    return levels.mutate(**{by: ibis.ifelse(levels[by].isin(kept), levels[by], "other")})


def _summary(levels: ir.Table, size: int, keys: list[str]) -> ir.Table:
    """Per [by,] step: units reaching it, units in progress there, and time statistics."""
    parts = []
    for k in range(1, size + 1):
        reached = levels.level >= k
        previous = levels[f"t{k - 1}"] if k > 1 else levels.t1
        # NULL outside the units that reached step k (a median ``where=`` does not compile on Spark)
        from_previous = ibis.cases((reached, elapsed_seconds(previous, levels[f"t{k}"])))
        from_entry = ibis.cases((reached, elapsed_seconds(levels.t1, levels[f"t{k}"])))
        grouped = levels.group_by(keys) if keys else levels
        parts.append(
            grouped.aggregate(
                step_index=ibis.literal(k, type="int32"),
                # no unit at all: zeros, not NULLs
                users=reached.sum().fill_null(0).cast("int64"),
                in_progress=((levels.level == k - 1) & levels.in_progress)
                .sum()
                .fill_null(0)
                .cast("int64"),
                median_seconds_from_previous=from_previous.median()
                if k > 1
                else ibis.null("float64"),
                mean_seconds_from_previous=from_previous.mean() if k > 1 else ibis.null("float64"),
                median_seconds_from_entry=from_entry.median(),
                mean_seconds_from_entry=from_entry.mean(),
            )
        )
    return ibis.union(*parts, distinct=False).order_by([*keys, "step_index"])


def _table(frame: pd.DataFrame, steps: Sequence[str], keys: list[str]) -> pd.DataFrame:
    """Rates, drop-off and 95% Wilson intervals, computed on the small summary."""
    frame = frame.copy()
    frame["step"] = [steps[i - 1] for i in frame.step_index]
    groups = frame.groupby(keys, sort=True, dropna=False) if keys else [((), frame)]
    out = []
    for _, group in groups:
        group = group.sort_values("step_index").copy()
        first = group.users.iloc[0]
        before = group.users.shift(1).fillna(first)
        group["conversion_rate"] = group.users / first if first else 0.0
        group["step_conversion_rate"] = (group.users / before).where(before > 0, 0.0)
        group["drop_off"] = (before - group.users).astype("int64")
        low_high = [wilson(int(n), int(first)) for n in group.users]
        group["conversion_low"] = [lo for lo, _ in low_high]
        group["conversion_high"] = [hi for _, hi in low_high]
        out.append(group)
    ordered = [*keys, *COLUMNS, "drop_off", "conversion_low", "conversion_high", "in_progress"]
    if not out:  # a breakdown of no events: no groups, no rows
        return pd.DataFrame(columns=ordered)
    table = pd.concat(out, ignore_index=True)
    rest = [c for c in table.columns if c not in ordered]
    table["users"] = table.users.astype("int64")
    return table[ordered + rest]


__all__ = ["COLUMNS", "funnel"]
