"""Drivers: what people who converted at a funnel step did that those who dropped did not.

For a step k of a funnel (the last by default), the people compared reached
step k-1 on their best attempt (see :func:`journeylib.model.levels.unit_levels`):
*converters* went on to step k, *droppers* did not and their window has
closed (people still inside it are left out). What each person did is looked at
between reaching step k-1 and reaching step k (converters) or the end of their
window (droppers), both included:

- ``event``: they did that event at least once (the funnel's own steps aside);
- a column or ``properties`` key named in ``columns``: one of their events
  there, step events included, had that value.

For each feature with at least ``min_support`` people, the 2x2 table of
converters and droppers with and without it gives the odds ratio (with 0.5
added to every cell when one is zero), its 95% interval, and Fisher's exact
test; the ``top`` features each way come back, strongest first.
The counting happens in the engine; Python only tests the small table of features.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import pandas as pd

from journeylib.core.durations import Duration, interval, parse_duration
from journeylib.core.errors import ParameterError, whole_number
from journeylib.core.spec import Spec
from journeylib.core.sql import SQL
from journeylib.display.registry import analysis
from journeylib.display.result import Result, lazy_chart
from journeylib.model.events import Events
from journeylib.model.features import COLUMNS, feature_counts, odds_table
from journeylib.model.levels import require_steps, step_rules, unit_levels
from journeylib.model.stages import Stages, require_stages


@dataclass(frozen=True)
class DriversSpec(Spec):
    """The parameters of :func:`drivers`, with the step studied resolved."""

    steps: tuple[str, ...]
    within: Duration
    step: int
    columns: tuple[str, ...] = ("channel",)
    min_support: int = 20
    top: int = 10
    alpha: float = 0.05
    steps_between: float | None = 0.95


@analysis(columns=COLUMNS, counts=("converters_with", "droppers_with"))
def drivers(
    ev: Events,
    steps: Sequence[str] | Stages,
    within: Duration = "7d",
    *,
    step: int | None = None,
    columns: Sequence[str] = (),
    min_support: int = 20,
    top: int = 10,
    alpha: float = 0.05,
    steps_between: float | None = 0.95,
) -> Result:
    """Events and values over- or under-represented among people who converted at ``step``.

    ``step`` is the 1-based index of the step studied (default: the last);
    ``columns`` adds value features (``"channel"``, a ``properties`` key such as
    ``"device"``). The table keeps features with ``p_value < alpha``:
    ``direction`` is ``more likely`` (odds ratio > 1) or ``less likely``.
    ``extras["all"]`` holds every feature with enough support, significant or not.

    The funnel's own steps are never features. Nor, by default, are the steps
    it does not name: an event that at least ``steps_between`` of the
    converters did on the way (checkout, before purchase) tells how the product
    works, not what drives people. A note names the events left out so;
    ``steps_between=None`` keeps them.

    Examples
    --------
    >>> import journeylib as jl, pathlib, tempfile
    >>> rows = ["user_id,event_name,event_time"]
    >>> for i in range(40):
    ...     rows.append(f"u{i},view,2024-01-01T10:00:00Z")
    ...     if i < 16 or 20 <= i < 22:  # 16 of 20 buyers and 2 of 20 others read the reviews
    ...         rows.append(f"u{i},reviews,2024-01-01T10:01:00Z")
    ...     if i < 20:
    ...         rows += [f"u{i},checkout,2024-01-01T10:02:00Z", f"u{i},buy,2024-01-01T10:03:00Z"]
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "e.csv"
    >>> _ = path.write_text("\\n".join(rows + ["x,other,2024-02-01T00:00:00Z"]) + "\\n")
    >>> ws = jl.open(); _ = ws.load_events(path)
    >>> d = drivers(ws.events(), ["view", "buy"], "1d", min_support=5)
    >>> d.table[["feature", "converters_with", "droppers_with", "direction"]].values.tolist()
    [['reviews', 16, 2, 'more likely']]
    >>> d.notes[0].startswith("Left out as steps on the way to buy, not drivers: checkout (100%")
    True
    """
    pairs = step_rules(steps)
    studied = len(pairs) if step is None else whole_number("step", step, 2, len(pairs))
    for name in columns:
        if not isinstance(name, str) or not name:
            raise ParameterError("columns", name, reason="Name a column or a properties key.")
    whole_number("min_support", min_support)
    if steps_between is not None and not 0 < steps_between <= 1:
        raise ParameterError(
            "steps_between", steps_between, reason="Give a share from 0 (excluded) to 1, or None."
        )
    require_steps(ev, pairs)
    if isinstance(steps, Stages):
        require_stages(ev, steps)
    window = parse_duration(within, param="within")
    rules = [events for _, events in pairs]
    levels = unit_levels(ev, rules, window)
    people = _compared(levels, studied, interval(window))
    counts = feature_counts(ev, people, [e for r in rules for e in r.events], list(columns))
    frame = ev.engine.run(counts, what="counting driver features")
    between = _steps_between(frame, steps_between)
    every = odds_table(frame.drop(between.index), min_support)
    significant = every[every.p_value < alpha]
    table = pd.concat(
        [
            significant[significant.odds_ratio > 1].head(top),
            significant[significant.odds_ratio < 1].sort_values("odds_ratio").head(top),
        ],
        ignore_index=True,
    )
    spec = DriversSpec(
        tuple(label for label, _ in pairs),
        within,
        studied,
        tuple(columns),
        min_support,
        top,
        alpha,
        steps_between,
    )
    label = pairs[studied - 1][0]
    notes: list[str] = []
    if len(between):
        notes.append(_left_out(between, label))
    if table.empty:
        totals = ev.engine.run(_reached(levels, studied), what="counting people")
        names = (pairs[studied - 2][0], label)
        notes.append(_why_empty(totals, every, names, str(within), min_support, alpha))
    return Result(
        f"Drivers of reaching {label}",
        table,
        SQL.of(counts),
        spec.params(),
        draw=lazy_chart("drivers", "drivers_chart"),
        extras={"all": every},
        notes=tuple(notes),
    )


def _steps_between(frame: pd.DataFrame, share: float | None) -> pd.DataFrame:
    """The event features at least ``share`` of the converters had: steps the funnel leaves unnamed.

    >>> frame = pd.DataFrame({"kind": ["event", "event", "device"], "value": ["checkout", "faq",
    ...     "ios"], "converters_with": [40, 12, 40], "droppers_with": [3, 9, 30],
    ...     "converters": [40] * 3, "droppers": [60] * 3})
    >>> _steps_between(frame, 0.95).value.tolist()
    ['checkout']
    """
    if share is None or frame.empty:
        return frame.iloc[:0]
    converters = frame.converters.astype("float64")
    done = (frame.kind == "event") & (converters > 0)
    return frame[done & (frame.converters_with >= share * converters)]


def _left_out(between: pd.DataFrame, step: str) -> str:
    """The note naming the steps on the way that were left out, with who did them.

    >>> between = pd.DataFrame({"value": ["checkout"], "converters_with": [40],
    ...     "droppers_with": [3], "converters": [40], "droppers": [60]})
    >>> print(_left_out(between, "purchase"))
    Left out as steps on the way to purchase, not drivers: checkout (100% of converters, 5% of droppers). Name them in steps= to look between them, or pass steps_between=None to keep them.
    """
    shown = between.sort_values(["converters_with", "value"], ascending=[False, True]).head(8)
    named = ", ".join(
        f"{r['value']} ({r['converters_with'] / r['converters']:.0%} of converters,"
        f" {r['droppers_with'] / r['droppers'] if r['droppers'] else 0:.0%} of droppers)"
        for r in shown.to_dict("records")
    )
    more = f" and {len(between) - 8} more" if len(between) > 8 else ""
    return (
        f"Left out as steps on the way to {step}, not drivers: {named}{more}. Name them in"
        " steps= to look between them, or pass steps_between=None to keep them."
    )


def _why_empty(
    totals: pd.DataFrame,
    every: pd.DataFrame,
    steps: tuple[str, str],
    within: str,
    min_support: int,
    alpha: float,
) -> str:
    """Why no driver was found, from the first reason that holds.

    Examples
    --------
    >>> totals = pd.DataFrame({"converters": [30], "droppers": [0], "pending": [4]})
    >>> _why_empty(totals, pd.DataFrame(), ("view", "buy"), "7d", 20, 0.05)
    'No drivers: all 30 people who reached view and were compared went on to buy within 7d, so nobody dropped to compare them with (4 more were still inside the 7d window when the data ends and are left out).'
    """
    before, step = steps
    converters, droppers, pending = (int(totals[c].iloc[0] or 0) for c in totals.columns)
    left_out = (
        f" ({pending} more were still inside the {within} window when the data ends and are"
        " left out)"
        if pending
        else ""
    )
    if converters + droppers == 0:
        return f"No drivers: nobody reached {before} and was compared{left_out}."
    if droppers == 0:
        return (
            f"No drivers: all {converters} people who reached {before} and were compared went on"
            f" to {step} within {within}, so nobody dropped to compare them with{left_out}."
        )
    if converters == 0:
        return (
            f"No drivers: none of the {droppers} people who reached {before} and were compared"
            f" went on to {step} within {within}, so nobody converted to compare them"
            f" with{left_out}."
        )
    if every.empty:
        return (
            f"No drivers: no event or value was seen by {min_support} or more of the"
            f" {converters + droppers} people compared (min_support={min_support}); lower"
            " min_support, or add value features with columns=."
        )
    best = every.sort_values(["p_value", "feature"]).iloc[0]
    return (
        f"No drivers: {len(every)} {'event or value was' if len(every) == 1 else 'events or values were'}"
        " seen by enough people, but none differs"
        f" between converters and droppers at alpha={alpha} (lowest p = {best.p_value:.2g}, for"
        f" {best.feature}); extras['all'] lists them all."
    )


def _reached(levels: ir.Table, step: int) -> ir.Table:
    """``converters, droppers, pending``: who reached the step before ``step``, and what came of it.

    ``pending``: still inside the window when the data ends, so not compared.
    """
    at = levels.filter(levels.level >= step - 1)
    converted = at.level >= step
    return at.aggregate(
        converters=converted.cast("int64").sum(),
        droppers=(~converted & ~at.in_progress).cast("int64").sum(),
        pending=(~converted & at.in_progress).cast("int64").sum(),
    )


def _compared(levels: ir.Table, step: int, span: ir.IntervalScalar) -> ir.Table:
    """``unit, converted, since, until``: the people compared and the span their features come from."""
    at = levels.filter(levels.level >= step - 1)
    at = at.filter((at.level >= step) | ~at.in_progress)
    converted = at.level >= step
    return at.select(
        "unit",
        converted=converted,
        since=at[f"t{step - 1}"],
        until=ibis.ifelse(converted, at[f"t{step}"], at.t1 + span),
    )


__all__ = ["COLUMNS", "drivers"]
