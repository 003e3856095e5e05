"""Funnels with exact, switchable semantics (DESIGN.md §6).

A unit (a person, or a session with ``unit="session"``) reaches step k when
events matching steps 1..k exist in order within the window; its level is the
best over every step-1 event (every attempt). Modes:

- ``ordered`` (default; ClickHouse ``windowFunnel``'s default, PostHog):
  t1 <= t2 <= ... <= tk and tk - t1 <= window (inclusive). Events at the same
  time count in step order, and an event matching two consecutive steps may
  fill both, exactly as ``windowFunnel`` does.
- ``strict_increase``: like ordered, with t_k > t_(k-1).
- ``unordered``: the first k steps all happen within one window, in any order.
- ``window_from="previous_step"`` (GA4): each step within the window of the one
  before, instead of from the entry (ordered modes).

The levels are computed in the engine in small named steps: the step events,
then one chain per step in which each attempt takes the earliest later event
of the next step (a running minimum over a window, portable to Spark), with
every reachable event kept when windows run from the previous step. Units
whose best attempt could still go on when the data ends are reported as
``in_progress`` at the next step, not as dropped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import timedelta

import ibis
import ibis.expr.types as ir
import pandas as pd

from journeylib.durations import Duration, elapsed_seconds, interval, parse_duration
from journeylib.errors import ParameterError, whole_number
from journeylib.events import Events
from journeylib.result import Result
from journeylib.sql import SQL
from journeylib.stages import Stages, require_events

MODES = ("ordered", "strict_increase", "unordered")
WINDOW_FROM = ("entry", "previous_step")
UNITS = ("user", "session")
#: the CLI's stable columns come first (DESIGN.md §5)
COLUMNS = ["step_index", "step", "users", "conversion_rate", "step_conversion_rate"]


def funnel(
    ev: Events,
    steps: Sequence[str] | Stages,
    within: Duration = "7d",
    mode: str = "ordered",
    *,
    by: str | None = None,
    exclude: Sequence[str] | None = None,
    unit: str = "user",
    window_from: str = "entry",
    max_groups: int = 12,
) -> Result:
    """How many units reached each step, with rates, intervals, timing and units in progress.

    With ``by``, the ``max_groups`` values with the most units entering keep their
    names and the rest are counted together as ``other``.

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
    _check(mode, unit, window_from)
    window = parse_duration(within, param="within")
    param = "stages" if isinstance(steps, Stages) else "steps"
    require_events(pairs, ev.event_names(), param=param, typos_only=True)
    names = [label for label, _ in pairs]
    if by is not None and by not in ev.table.columns:
        raise ParameterError("by", by, allowed=ev.table.columns, reason="No such column.")
    excluded = [str(e) for e in ([exclude] if isinstance(exclude, str) else exclude or [])]
    rules = [events for _, events in pairs]
    levels = unit_levels(
        ev, rules, window, mode, unit=unit, window_from=window_from, by=by, exclude=excluded
    )
    keys = [by] if by else []
    if by:
        whole_number("max_groups", max_groups)
        levels = _fold_small_groups(ev, levels, by, max_groups)
    summary = _summary(levels, len(names), keys)
    frame = ev.engine.run(summary, what="the funnel")
    table = _table(frame, names, keys)
    params = {
        "steps": list(names),
        "within": str(within),
        "mode": mode,
        "unit": unit,
        "window_from": window_from,
        "by": by,
        "exclude": excluded,
        "max_groups": max_groups,
    }
    from journeylib.charts.funnel import funnel_chart

    name = f"Funnel by {by}" if by else "Funnel"
    return Result(name, table, SQL.of(summary), params, draw=funnel_chart)


def _fold_small_groups(ev: Events, levels: ir.Table, by: str, keep: int) -> ir.Table:
    """``by`` values beyond the ``keep`` with the most units become ``other`` (ties by name)."""
    sizes = levels.group_by(by).aggregate(n=levels.count())
    top = sizes.order_by([ibis.desc("n"), by]).limit(keep)
    kept = [str(v) for v in ev.engine.run(top, what="the largest breakdown groups")[by]]
    return levels.mutate(**{by: ibis.ifelse(levels[by].isin(kept), levels[by], "other")})


def step_rules(steps: Sequence[str] | Stages) -> list[tuple[str, tuple[str, ...]]]:
    """(label, event names) per step: a stage is reached by any of its events."""
    pairs: list[tuple[str, tuple[str, ...]]] = (
        list(steps) if isinstance(steps, Stages) else [(str(s), (str(s),)) for s in steps]
    )
    if isinstance(steps, str) or len(pairs) < 2:
        raise ParameterError(
            "steps", steps, reason="Give two or more event names (or stages), in order."
        )
    return pairs


def _check(mode: str, unit: str, window_from: str) -> None:
    if mode not in MODES:
        raise ParameterError("mode", mode, allowed=MODES)
    if unit not in UNITS:
        raise ParameterError("unit", unit, allowed=UNITS)
    if window_from not in WINDOW_FROM:
        raise ParameterError("window_from", window_from, allowed=WINDOW_FROM)
    if mode == "unordered" and window_from != "entry":
        raise ParameterError(
            "window_from", window_from, reason="An unordered funnel has one window."
        )


def step_events(ev: Events, steps: Sequence[str | Sequence[str]], unit: str = "user") -> ir.Table:
    """One row per (event, step it matches): ``unit``, ``t``, ``step`` (1-based).

    A step is an event name or several (a stage). An event matching two steps
    yields two rows.
    """
    t = ev.table
    key = t.user_id if unit == "user" else t.session_id
    parts = [
        t.filter([t.event_name.isin(_names(name)), key.notnull()]).select(
            unit=key, t=t.event_time, step=ibis.literal(index, type="int32")
        )
        for index, name in enumerate(steps, start=1)
    ]
    return ibis.union(*parts, distinct=False)


def _names(step: str | Sequence[str]) -> list[str]:
    return [step] if isinstance(step, str) else list(step)


def unit_levels(
    ev: Events,
    steps: Sequence[str | Sequence[str]],
    window: timedelta,
    mode: str = "ordered",
    *,
    unit: str = "user",
    window_from: str = "entry",
    by: str | None = None,
    exclude: Sequence[str] = (),
) -> ir.Table:
    """Each unit's best level, its best attempt's step times and whether it is in progress.

    Columns: ``unit``, ``level``, ``t1``..``tK`` (NULL beyond the level),
    ``in_progress`` and, with ``by``, the unit's value at its first entry.
    A unit whose best attempt has an ``exclude`` event strictly between its
    first and last reached step is left out altogether.
    """
    rows = step_events(ev, steps, unit)
    span = interval(window)
    if mode == "unordered":
        attempts = _unordered(rows, len(steps), span)
    else:
        attempts = _ordered(
            rows,
            len(steps),
            span,
            strict=mode == "strict_increase",
            from_previous=window_from == "previous_step",
        )
    data_end = ev.table.event_time.max().as_scalar()
    best = _best(attempts, len(steps), span, data_end, from_previous=window_from == "previous_step")
    if exclude:
        best = _without_excluded(ev, best, exclude, len(steps), unit)
    if by is None:
        return best
    t = ev.table
    key = t.user_id if unit == "user" else t.session_id
    entries = t.filter([t.event_name.isin(_names(steps[0])), key.notnull()])
    values = entries.group_by(unit=key).aggregate(by_value=entries[by].argmin(entries.event_time))
    return best.left_join(values, "unit").select(best, values.by_value.fill_null("(none)").name(by))


def _without_excluded(
    ev: Events, best: ir.Table, exclude: Sequence[str], size: int, unit: str
) -> ir.Table:
    """Drop units with an excluded event strictly between the first and last step of their best attempt."""
    t = ev.table
    key = t.user_id if unit == "user" else t.session_id
    marks = t.filter(t.event_name.isin(list(exclude))).select(unit=key, x=t.event_time)
    last = ibis.coalesce(*[best[f"t{k}"] for k in range(size, 0, -1)])
    spans = best.select("unit", first=best.t1, last=last)
    hit = spans.join(
        marks, [spans.unit == marks.unit, marks.x > spans.first, marks.x < spans["last"]]
    )
    flagged = hit.select(spans.unit).distinct()
    return best.anti_join(flagged, "unit")


def _ordered(
    rows: ir.Table, size: int, span: ir.IntervalScalar, *, strict: bool, from_previous: bool
) -> ir.Table:
    """Attempts: one row per (unit, entry) with t1..tK of the steps it reached."""
    times = [f"t{k}" for k in range(1, size + 1)]
    stamp = rows.t.type()
    chain = rows.filter(rows.step == 1).select(
        "unit", t1=rows.t, **{name: ibis.null().cast(stamp) for name in times[1:]}
    )
    chain = chain.mutate(level=ibis.literal(1, type="int32"))
    done = [chain]
    for k in range(2, size + 1):
        current = chain.mutate(tk=chain[times[k - 2]])
        if from_previous:
            # every reachable event is a candidate: the earliest is not always best
            nxt = rows.filter(rows.step == k)
            joined = current.join(
                nxt,
                [
                    current.unit == nxt.unit,
                    (nxt.t > current.tk) if strict else (nxt.t >= current.tk),
                    nxt.t <= current.tk + span,
                ],
            )
            chain = joined.select(
                current.unit,
                *[current[n] for n in times[: k - 1]],
                nxt.t.name(times[k - 1]),
                *[current[n] for n in times[k:]],
            ).distinct()
        else:
            chain = _next_step(current, rows.filter(rows.step == k), times, k, strict)
            chain = chain.filter(chain[times[k - 1]] <= chain.t1 + span)
        chain = chain.mutate(level=ibis.literal(k, type="int32"))
        done.append(chain)
    return ibis.union(*[d.select("unit", "level", *times) for d in done], distinct=False)


def _next_step(
    current: ir.Table, candidates: ir.Table, times: list[str], k: int, strict: bool
) -> ir.Table:
    """For each attempt, the earliest step-k event at or after (strictly after) its last step."""
    nulls = {name: ibis.null().cast(candidates.t.type()) for name in times}
    mine = current.select(
        "unit",
        t=current.tk,
        kind=ibis.literal(1 if strict else 0, type="int8"),
        **{n: current[n] for n in times},
    )
    theirs = candidates.select(
        "unit", t=candidates.t, kind=ibis.literal(0 if strict else 1, type="int8"), **nulls
    )
    both = ibis.union(mine, theirs, distinct=False)
    following = ibis.window(group_by="unit", order_by=["t", "kind"], rows=(0, None))
    candidate_kind = 0 if strict else 1
    ahead = both.mutate(
        found=ibis.cases((both.kind == candidate_kind, both.t)).min().over(following)
    )
    attempts = ahead.filter([ahead.kind != candidate_kind, ahead.found.notnull()])
    return attempts.select(
        "unit",
        *[attempts[n] for n in times[: k - 1]],
        attempts.found.name(times[k - 1]),
        *[attempts[n] for n in times[k:]],
    )


def _unordered(rows: ir.Table, size: int, span: ir.IntervalScalar) -> ir.Table:
    """Attempts anchored at each step event: the first k steps all within [anchor, anchor + window]."""
    times = [f"t{k}" for k in range(1, size + 1)]
    following = ibis.window(group_by="unit", order_by="t", rows=(0, None))
    firsts = rows.mutate(
        **{
            times[j - 1]: ibis.cases((rows.step == j, rows.t)).min().over(following)
            for j in range(1, size + 1)
        }
    )
    within = {n: ibis.cases((firsts[n] <= firsts.t + span, firsts[n])) for n in times}
    anchored = firsts.mutate(**within)
    level: ir.IntegerValue = ibis.literal(0, type="int32")
    for k in range(size, 0, -1):  # the largest k whose first k steps are all inside
        inside = ibis.and_(*[anchored[n].notnull() for n in times[:k]])
        level = ibis.cases((inside & (level == 0), ibis.literal(k, type="int32")), else_=level)
    leveled = anchored.mutate(level=level).filter(lambda r: r.level > 0)
    # times beyond the level are not part of the attempt
    return leveled.select(
        "unit",
        "level",
        **{n: ibis.cases((leveled.level >= j, leveled[n])) for j, n in enumerate(times, start=1)},
    )


def _best(
    attempts: ir.Table,
    size: int,
    span: ir.IntervalScalar,
    data_end: ir.TimestampScalar,
    *,
    from_previous: bool,
) -> ir.Table:
    """Per unit: the best attempt (highest level, then the earliest entry) and whether it may go on."""
    times = [f"t{k}" for k in range(1, size + 1)]
    # deterministic among equal levels: the earliest entry, then the earliest later steps
    rank = ibis.row_number().over(group_by="unit", order_by=[ibis.desc("level"), *times])
    ranked = attempts.mutate(rank=rank)
    best = ranked.filter(ranked.rank == 0).drop("rank")
    # still inside its window when the data ends: from the entry, or from the last step reached
    last = ibis.coalesce(*[best[n] for n in reversed(times)])
    start = last if from_previous else best.t1
    open_window = (start + span > data_end) & (best.level < size)
    return best.mutate(in_progress=open_window)


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
                users=reached.sum().cast("int64"),
                in_progress=((levels.level == k - 1) & levels.in_progress).sum().cast("int64"),
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
    table = pd.concat(out, ignore_index=True)
    ordered = [*keys, *COLUMNS, "drop_off", "conversion_low", "conversion_high", "in_progress"]
    rest = [c for c in table.columns if c not in ordered]
    table["users"] = table.users.astype("int64")
    return table[ordered + rest]


def wilson(successes: int, trials: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion.

    Examples
    --------
    >>> [round(x, 4) for x in wilson(8, 10)]
    [0.4902, 0.9433]
    """
    if trials == 0:
        return (0.0, 0.0)
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = (
        z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    )
    return (max(0.0, centre - half), min(1.0, centre + half))


__all__ = ["MODES", "funnel", "step_events", "unit_levels", "wilson"]
