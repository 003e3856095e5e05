"""Paths: the most common event sequences, GA4-style path trees and step matrices.

Every analysis here reads a unit's *cleaned sequence*, built in the engine by
:func:`journeylib.model.sequences.clean_sequence`: the unit's events (a person's, or a session's with
``unit="session"``) in ``(event_time, event_id)`` order, each name first
renamed by the ``rename`` rules (regex -> group name, the first matching rule
wins, compiled to a ``CASE`` of Ibis literals), then consecutive repeats
collapsed into one (``collapse_repeats``), then numbered 0, 1, 2... (``pos``).

- :func:`paths`: whole sequences of up to ``steps`` events from each unit's
  first ``start`` (forward), up to its first ``end`` (backward), from its
  first ``start`` to the first ``end`` after it (the middle of a longer one
  shown as ``…``), or from its first event; the ``top`` paths, the rest folded
  into ``other``.
- :func:`next_steps` / :func:`previous_steps`: the GA4 path-exploration tree
  anchored on each unit's first occurrence of an event: per step the ``top``
  events (the rest as ``other``), each row an edge from its parent node at the
  step before (``(end)`` / ``(start)`` where a journey runs out).
- :func:`step_matrix`: retentioneering's step matrix, the share of journeys at
  each event per step, finished journeys carried in ``(end)`` (and, before an
  anchor, journeys not begun in ``(start)``), so every step sums to 1.

Ties in time are broken by ``event_id``; ties in counts by name, so every
result is deterministic. The engine does the work with window functions
(``row_number``, ``lag``) and a filtered aggregate per path slot (never an
ordered aggregate), portable to Spark; Python only touches the small final
tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import ibis
import ibis.expr.types as ir
import pandas as pd

from journeylib.core.errors import ParameterError, whole_number
from journeylib.core.sql import SQL
from journeylib.display.registry import analysis
from journeylib.display.result import Result, lazy_chart
from journeylib.model.events import Events, Unit
from journeylib.model.labels import END, OTHER, START
from journeylib.model.sequences import (
    SequenceSpec,
    first_position,
    path_summary,
    renamed,
)
from journeylib.model.stages import require_events

#: the CLI's stable columns (``conversion_rate`` when a conversion is given)
COLUMNS = ["path", "steps", "users", "share", "conversion_rate"]


def _names_present(ev: Events, rules: list[tuple[str, str]]) -> list[str]:
    """The distinct event names in scope after renaming."""
    t = ev.table
    names = t.select(event=renamed(t.event_name, rules)).distinct()
    frame = ev.engine.run(names, what="listing event names")
    return [str(n) for n in frame.event.dropna()]


def _require(ev: Events, rules: list[tuple[str, str]], named: Mapping[str, str | None]) -> None:
    """Raise (with "did you mean") for a named event that looks like a typo of a present one."""
    given = {param: name for param, name in named.items() if name is not None}
    for param, name in given.items():
        if not isinstance(name, str) or not name:
            raise ParameterError(param, name, reason="Name an event.")
    if not given:
        return
    present = _names_present(ev, rules)
    for param, name in given.items():
        assert name is not None
        require_events([(name, (name,))], present, param=param, typos_only=True)


@dataclass(frozen=True)
class PathsSpec(SequenceSpec):
    """The parameters of :func:`paths`, checked when made."""

    start: str | None = None
    end: str | None = None
    steps: int = 5
    top: int = 20
    conversion: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        both = self.start is not None and self.end is not None
        object.__setattr__(self, "steps", whole_number("steps", self.steps, 2 if both else 1))
        object.__setattr__(self, "top", whole_number("top", self.top, 1))


@dataclass(frozen=True)
class _TreeSpec(SequenceSpec):
    #: the field naming the anchor event: ``after`` or ``before``
    ANCHOR: ClassVar[str]
    steps: int = 3
    top: int = 5

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "steps", whole_number("steps", self.steps, 1))
        object.__setattr__(self, "top", whole_number("top", self.top, 1))
        anchor = getattr(self, self.ANCHOR)
        if not isinstance(anchor, str) or not anchor:
            raise ParameterError(self.ANCHOR, anchor, reason="Name the anchor event.")


@dataclass(frozen=True)
class NextStepsSpec(_TreeSpec):
    """The parameters of :func:`next_steps`, checked when made."""

    ANCHOR = "after"
    after: str = ""


@dataclass(frozen=True)
class PreviousStepsSpec(_TreeSpec):
    """The parameters of :func:`previous_steps`, checked when made."""

    ANCHOR = "before"
    before: str = ""


@dataclass(frozen=True)
class StepMatrixSpec(SequenceSpec):
    """The parameters of :func:`step_matrix`, checked when made."""

    anchor: str | None = None
    steps: int = 5
    before: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "steps", whole_number("steps", self.steps, 1))
        object.__setattr__(self, "before", whole_number("before", self.before, 0))


@analysis(columns=COLUMNS, counts=("users",))
def paths(
    ev: Events,
    start: str | None = None,
    end: str | None = None,
    steps: int = 5,
    *,
    unit: Unit = "user",
    collapse_repeats: bool = True,
    rename: Mapping[str, str] | None = None,
    top: int = 20,
    conversion: str | None = None,
) -> Result:
    """The most common paths of up to ``steps`` events, with their share and conversion rate.

    - ``start``: from each unit's first ``start`` event, forward.
    - ``end``: the events up to and including each unit's first ``end`` event.
    - both: from the first ``start`` to the first ``end`` after it; units
      without one are left out, and a longer path keeps its first
      ``steps - 1`` events, then ``…``, then ``end``.
    - neither: from each unit's first event.

    Table: ``path`` (events joined by ``" > "``), ``steps`` (events shown),
    ``users`` (units on the path), ``share`` (of the units with a path) and,
    with ``conversion``, ``conversion_rate``: the share of those units with a
    ``conversion`` event after the anchor (``start``, else ``end``, else the
    first event). Paths beyond the ``top`` (by users, then path) are folded
    into one ``other`` row, last, with no ``steps``.

    Examples
    --------
    >>> import journeylib as jl, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "e.csv"
    >>> _ = path.write_text("user_id,event_name,event_time\\n"
    ...     "a,home,2024-01-01T10:00:00Z\\na,view,2024-01-01T10:01:00Z\\na,view,2024-01-01T10:02:00Z\\n"
    ...     "a,buy,2024-01-01T10:03:00Z\\nb,home,2024-01-01T10:00:00Z\\nb,view,2024-01-01T10:05:00Z\\n"
    ...     "c,home,2024-01-02T10:00:00Z\\n")
    >>> ws = jl.open(); _ = ws.load_events(path)
    >>> r = paths(ws.events(), start="home", steps=2, conversion="buy")
    >>> r.table.values.tolist()
    [['home > view', 2, 2, 0.6666666666666666, 0.5], ['home', 1, 1, 0.3333333333333333, 0.0]]
    """
    spec = PathsSpec(unit, collapse_repeats, rename, start, end, steps, top, conversion)
    steps, top, rules = spec.steps, spec.top, spec.rules
    seq = spec.sequence(ev)
    _require(ev, rules, {"start": start, "end": end, "conversion": conversion})
    summary = path_summary(seq, start, end, steps, top, conversion)
    frame = ev.engine.run(summary, what="the paths")
    table = _path_table(frame, conversion is not None)
    title = "Paths" + (f" from {start}" if start else "") + (f" to {end}" if end else "")
    return Result(
        title, table, SQL.of(summary), spec.params(), draw=lazy_chart("paths", "sankey_chart")
    )


def _path_table(frame: pd.DataFrame, with_conversion: bool) -> pd.DataFrame:
    frame = frame.sort_values("rank", kind="stable").reset_index(drop=True)
    total = int(frame.users.sum())
    table = pd.DataFrame(
        {
            "path": frame.path.astype(str).tolist(),
            "steps": pd.array([None if pd.isna(s) else int(s) for s in frame.steps], dtype="Int64"),
            "users": frame.users.astype("int64").to_numpy(),
            "share": (frame.users / total).astype("float64").to_numpy() if total else 0.0,
        }
    )
    if with_conversion:
        table["conversion_rate"] = (frame.converted / frame.users).astype("float64").to_numpy()
    return table


@analysis(counts=("users",))
def next_steps(
    ev: Events,
    after: str,
    steps: int = 3,
    top: int = 5,
    *,
    unit: Unit = "user",
    collapse_repeats: bool = True,
    rename: Mapping[str, str] | None = None,
) -> Result:
    """GA4 path exploration forward from each unit's first ``after`` event.

    Step 0 is the anchor; step k is the k-th event after it. At each step the
    ``top`` events (by units, then name) keep their names, the rest become
    ``other``, and a journey with no k-th event is ``(end)`` at step k (and
    gone after). Table: ``step``, ``event`` (the node), ``parent`` (the node
    at the step before; the anchor for step 1, none for step 0), ``users``
    (units on that edge) and ``share`` (of the units at the anchor).

    Examples
    --------
    >>> import journeylib as jl, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "e.csv"
    >>> _ = path.write_text("user_id,event_name,event_time\\n"
    ...     "a,home,2024-01-01T10:00:00Z\\na,view,2024-01-01T10:01:00Z\\na,buy,2024-01-01T10:03:00Z\\n"
    ...     "b,home,2024-01-01T10:00:00Z\\nb,view,2024-01-01T10:05:00Z\\n")
    >>> ws = jl.open(); _ = ws.load_events(path)
    >>> r = next_steps(ws.events(), "home", steps=2)
    >>> r.table[["step", "event", "parent", "users"]].values.tolist()
    [[0, 'home', None, 2], [1, 'view', 'home', 2], [2, 'buy', 'view', 1], [2, '(end)', 'view', 1]]
    """
    spec = NextStepsSpec(unit, collapse_repeats, rename, steps=steps, top=top, after=after)
    return _tree(ev, spec, after, 1)


@analysis(counts=("users",))
def previous_steps(
    ev: Events,
    before: str,
    steps: int = 3,
    top: int = 5,
    *,
    unit: Unit = "user",
    collapse_repeats: bool = True,
    rename: Mapping[str, str] | None = None,
) -> Result:
    """GA4 backward path exploration from each unit's first ``before`` event.

    As :func:`next_steps`, with steps counted back: step -k is the k-th event
    before the anchor, its ``parent`` the node at step -(k-1), and a journey
    with no event there is ``(start)``.

    Examples
    --------
    >>> import journeylib as jl, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "e.csv"
    >>> _ = path.write_text("user_id,event_name,event_time\\n"
    ...     "a,home,2024-01-01T10:00:00Z\\na,view,2024-01-01T10:01:00Z\\na,buy,2024-01-01T10:03:00Z\\n"
    ...     "b,view,2024-01-01T10:05:00Z\\nb,buy,2024-01-01T10:06:00Z\\n")
    >>> ws = jl.open(); _ = ws.load_events(path)
    >>> r = previous_steps(ws.events(), "buy", steps=2)
    >>> r.table[["step", "event", "parent", "users"]].values.tolist()
    [[0, 'buy', None, 2], [-1, 'view', 'buy', 2], [-2, 'home', 'view', 1], [-2, '(start)', 'view', 1]]
    """
    spec = PreviousStepsSpec(unit, collapse_repeats, rename, steps=steps, top=top, before=before)
    return _tree(ev, spec, before, -1)


def _tree(
    ev: Events, spec: NextStepsSpec | PreviousStepsSpec, anchor: str, direction: int
) -> Result:
    param = "after" if direction > 0 else "before"
    steps, top, rules = spec.steps, spec.top, spec.rules
    seq = spec.sequence(ev)
    _require(ev, rules, {param: anchor})
    tree = _tree_summary(seq, anchor, steps, top, direction)
    frame = ev.engine.run(tree, what="the path exploration")
    table = _tree_table(frame, direction)
    title = f"Next steps after {anchor}" if direction > 0 else f"Previous steps before {anchor}"
    return Result(
        title, table, SQL.of(tree), spec.params(), draw=lazy_chart("paths", "sankey_chart")
    )


def _tree_summary(seq: ir.Table, anchor: str, steps: int, top: int, direction: int) -> ir.Table:
    """``step`` (>= 0, counted away from the anchor), ``event``, ``parent``, ``users``."""
    missing = END if direction > 0 else START
    anchors = first_position(seq, anchor, "a")
    bounds = seq.group_by("unit").aggregate(last=seq.pos.max())
    units = anchors.join(bounds, "unit")
    joined = seq.join(units, "unit")
    away = (joined.pos - joined.a) * direction
    cells = joined.filter([away >= 1, away <= steps]).select(
        "unit", step=away.cast("int64"), event=joined.event
    )
    # the first step with no event: one past the last event, or one before the first
    gone = (units["last"] - units.a + 1) if direction > 0 else (units.a + 1)
    ended = units.filter(gone <= steps).select(
        "unit", step=gone.cast("int64"), event=ibis.literal(missing, type="string")
    )
    cells = ibis.union(cells, ended, distinct=False)
    counts = cells.group_by(["step", "event"]).aggregate(n=cells.count())
    order = ibis.window(
        group_by="step", order_by=[(counts.event == missing), ibis.desc("n"), "event"]
    )
    ranked = counts.mutate(rank=ibis.row_number().over(order))
    labels = ranked.select(
        "step",
        "event",
        label=ibis.cases(
            (ranked.event == missing, ranked.event),
            (ranked.rank < top, ranked.event),
            else_=ibis.literal(OTHER),
        ),
    )
    named = cells.join(labels, ["step", "event"]).select(cells.unit, cells.step, labels.label)
    parent = named.label.lag().over(group_by="unit", order_by="step")
    edges = named.mutate(parent=ibis.coalesce(parent, ibis.literal(anchor, type="string")))
    grouped = edges.group_by(["step", "label", "parent"]).aggregate(
        users=edges.count().cast("int64")
    )
    root = units.aggregate(users=units.count().cast("int64")).select(
        step=ibis.literal(0, type="int64"),
        label=ibis.literal(anchor, type="string"),
        parent=ibis.null("string"),
        users="users",
    )
    both = ibis.union(root, grouped.select("step", "label", "parent", "users"), distinct=False)
    return both.rename(event="label").order_by(["step", ibis.desc("users"), "event", "parent"])


def _tree_table(frame: pd.DataFrame, direction: int) -> pd.DataFrame:
    """Rows by step, then units (``other`` and the end nodes last), with shares of the anchor."""
    frame = frame.copy()
    root = frame[frame.step == 0]
    total = int(root.users.iloc[0]) if len(root) else 0
    if not total:
        frame = frame.iloc[0:0]
    frame["folded"] = frame.event.isin([OTHER, END, START]) & (frame.step != 0)
    frame["tail"] = frame.event.isin([END, START]) & (frame.step != 0)
    frame = frame.sort_values(
        ["step", "folded", "tail", "users", "event", "parent"],
        ascending=[True, True, True, False, True, True],
        kind="stable",
        na_position="first",
    )
    table = pd.DataFrame(
        {
            "step": (frame.step.astype("int64") * direction).to_numpy(),
            "event": frame.event.astype(str).tolist(),
            "users": frame.users.astype("int64").to_numpy(),
        }
    )
    # object dtype, so the root's missing parent stays None (not NaN) in lists and JSON
    parents = [None if pd.isna(p) else str(p) for p in frame.parent]
    table.insert(2, "parent", pd.Series(parents, dtype="object"))
    table["share"] = table.users / total if total else pd.Series(dtype="float64")
    return table


@analysis(counts=("users",))
def step_matrix(
    ev: Events,
    anchor: str | None = None,
    steps: int = 5,
    before: int = 0,
    *,
    unit: Unit = "user",
    collapse_repeats: bool = True,
    rename: Mapping[str, str] | None = None,
) -> Result:
    """The share of journeys at each event per step (retentioneering's step matrix).

    Without ``anchor``, step k (1..``steps``) is each unit's k-th event. With
    it, only units with an ``anchor`` event count; step 0 is their first one,
    steps 1..``steps`` follow it and -``before``..-1 precede it. A journey
    that has ended sits in ``(end)`` for the rest of the steps, one not yet
    begun in ``(start)``, so the shares of every step sum to 1.

    Table (long): ``step``, ``event``, ``users`` (units there), ``share``
    (of all units in the matrix); ``extras["matrix"]`` is the wide form
    (events down, steps across). The chart is a heat map.

    Examples
    --------
    >>> import journeylib as jl, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "e.csv"
    >>> _ = path.write_text("user_id,event_name,event_time\\n"
    ...     "a,home,2024-01-01T10:00:00Z\\na,view,2024-01-01T10:01:00Z\\n"
    ...     "b,home,2024-01-01T10:00:00Z\\nb,buy,2024-01-01T10:05:00Z\\nb,view,2024-01-01T10:06:00Z\\n")
    >>> ws = jl.open(); _ = ws.load_events(path)
    >>> r = step_matrix(ws.events(), steps=3)
    >>> r.table.values.tolist()
    [[1, 'home', 2, 1.0], [2, 'buy', 1, 0.5], [2, 'view', 1, 0.5], [3, 'view', 1, 0.5], [3, '(end)', 1, 0.5]]
    """
    spec = StepMatrixSpec(unit, collapse_repeats, rename, anchor, steps, before)
    steps, before = spec.steps, spec.before
    if anchor is None and before:
        raise ParameterError(
            "before", before, reason="Steps before need an anchor event (anchor=...)."
        )
    rules = spec.rules
    seq = spec.sequence(ev)
    _require(ev, rules, {"anchor": anchor})
    low = -before if anchor is not None else 1
    counts = _matrix_counts(seq, anchor, steps, low)
    frame = ev.engine.run(counts, what="the step matrix")
    table = _matrix_table(frame, low, steps)
    wide = (
        table.pivot(index="event", columns="step", values="share").fillna(0.0)
        if len(table)
        else pd.DataFrame()
    )
    if len(wide):
        wide = wide.reset_index()
        wide.columns = [str(c) for c in wide.columns]
    title = f"Step matrix around {anchor}" if anchor else "Step matrix"
    return Result(
        title,
        table,
        SQL.of(counts),
        spec.params(),
        draw=lazy_chart("paths", "step_matrix_chart"),
        extras={"matrix": wide},
    )


def _matrix_counts(seq: ir.Table, anchor: str | None, steps: int, low: int) -> ir.Table:
    """``kind`` (cell, end, start, units), ``step``, ``event``, ``n``.

    ``cell`` counts units at an event; ``end`` counts units by the first step
    past their last event, ``start`` by the last step before their first one;
    ``units`` is the number of units in the matrix.
    """
    if anchor is not None:
        units = first_position(seq, anchor, "a")
        offset = 0
    else:
        units = seq.group_by("unit").aggregate(a=ibis.literal(0, type="int64"))
        offset = 1
    bounds = seq.group_by("unit").aggregate(last=seq.pos.max())
    units = units.join(bounds, "unit")
    joined = seq.join(units, "unit")
    placed = joined.mutate(step=(joined.pos - joined.a + offset).cast("int64"))
    cells = placed.filter([placed.step >= low, placed.step <= steps])
    cells = cells.group_by(["step", "event"]).aggregate(n=cells.count().cast("int64"))
    past = (units["last"] - units.a + offset + 1).cast("int64")
    ends = (
        units.filter(past <= steps)
        .mutate(step=past)
        .group_by("step")
        .aggregate(n=lambda t: t.count().cast("int64"))
    )
    ahead = (offset - units.a - 1).cast("int64")
    starts = (
        units.filter(ahead >= low)
        .mutate(step=ahead)
        .group_by("step")
        .aggregate(n=lambda t: t.count().cast("int64"))
    )
    total = units.aggregate(n=units.count().cast("int64"))

    def part(table: ir.Table, kind: str, step: Any, event: Any) -> ir.Table:
        return table.select(
            kind=ibis.literal(kind, type="string"),
            step=step,
            event=event,
            n=table.n,
        )

    null_text = ibis.null("string")
    return ibis.union(
        part(cells, "cell", cells.step, cells.event),
        part(ends, "end", ends.step, null_text),
        part(starts, "start", starts.step, null_text),
        part(total, "units", ibis.null("int64"), null_text),
        distinct=False,
    ).order_by(["kind", "step", "event"])


def _matrix_table(frame: pd.DataFrame, low: int, steps: int) -> pd.DataFrame:
    """Cells plus the carried ``(end)`` / ``(start)`` counts, sorted by step, users, event."""
    total = int(frame[frame.kind == "units"].n.sum())
    cells = frame[frame.kind == "cell"]
    rows: list[tuple[int, str, int]] = [
        (int(s), str(e), int(n)) for s, e, n in zip(cells.step, cells.event, cells.n, strict=True)
    ]
    ends = {
        int(s): int(n)
        for s, n in zip(frame[frame.kind == "end"].step, frame[frame.kind == "end"].n, strict=True)
    }
    starts = {
        int(s): int(n)
        for s, n in zip(
            frame[frame.kind == "start"].step, frame[frame.kind == "start"].n, strict=True
        )
    }
    for k in range(low, steps + 1):
        finished = sum(n for s, n in ends.items() if s <= k)
        waiting = sum(n for s, n in starts.items() if s >= k)
        if finished:
            rows.append((k, END, finished))
        if waiting:
            rows.append((k, START, waiting))
    table = pd.DataFrame(rows, columns=["step", "event", "users"])
    table["tail"] = table.event.isin([END, START])
    table = table.sort_values(
        ["step", "tail", "users", "event"], ascending=[True, True, False, True]
    ).drop(columns="tail")
    table = table.reset_index(drop=True).astype({"step": "int64", "users": "int64"})
    table["share"] = table.users / total if total else pd.Series(dtype="float64")
    return table


__all__ = ["next_steps", "paths", "previous_steps", "step_matrix"]
