"""Transitions: the directly-follows graph of consecutive events (ADR 0014).

Each unit's cleaned sequence (:func:`journeylib.model.sequences.clean_sequence`: ordered
by ``(event_time, event_id)``, renamed, optionally with repeats collapsed)
gives one transition per pair of consecutive events. Per ``(source, target)``
the engine counts them and the units that made them, and aggregates the time
between the two events (median and 95th percentile, interpolated between the
order statistics like ``numpy.quantile``'s default and DuckDB's
``quantile_cont``, from one sort of each edge's times). Probabilities follow
retentioneering's transition graph: ``probability_out`` = count / all
transitions out of the source (the edges out of a node sum to 1),
``probability_in`` = count / all transitions into the target. With
``endpoints=True`` every sequence is bracketed by ``(start)`` and ``(end)``
(pm4py's start and end activities; no time).
``min_count`` only hides rows: the probabilities are over every transition.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import pandas as pd

from journeylib.core.durations import elapsed_between, elapsed_seconds, epoch_us, microsecond_parts
from journeylib.core.errors import whole_number
from journeylib.core.sql import SQL
from journeylib.display.registry import analysis
from journeylib.display.result import Result, lazy_chart
from journeylib.model.events import Events, Unit
from journeylib.model.labels import END, START
from journeylib.model.sequences import SequenceSpec, sequence_rows

#: the stable columns of the transition table
COLUMNS = [
    "source",
    "target",
    "count",
    "users",
    "probability_out",
    "probability_in",
    "median_seconds",
    "p95_seconds",
]
#: the time quantiles of each edge: column and fraction
QUANTILES = {"median_seconds": 0.5, "p95_seconds": 0.95}


@dataclass(frozen=True)
class TransitionsSpec(SequenceSpec):
    """The parameters of :func:`transitions`, checked when made (repeats kept by default)."""

    collapse_repeats: bool = False
    min_count: int = 1
    endpoints: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "min_count", whole_number("min_count", self.min_count, 1))


@analysis(columns=COLUMNS, counts=("count", "users"), views=("graph",))
def transitions(
    ev: Events,
    *,
    unit: Unit = "user",
    collapse_repeats: bool = False,
    rename: Mapping[str, str] | None = None,
    min_count: int = 1,
    endpoints: bool = False,
) -> Result:
    """Directly-follows counts, probabilities and times between consecutive events.

    Table: ``source``, ``target``, ``count`` (transitions), ``users`` (units
    making it at least once), ``probability_out``, ``probability_in``,
    ``median_seconds`` and ``p95_seconds`` (time from source to target), sorted
    by count (then source, target); rows with ``count < min_count`` are left
    out. ``extras``: ``nodes`` (``node``, ``occurrences``, ``users``,
    ``mean_step``: the mean 1-based position in the sequence) and ``matrix``
    (``probability_out``, sources down, targets across). The chart is the
    transition matrix; ``view("graph")`` draws the transition graph.

    Examples
    --------
    >>> import journeylib as jl, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "e.csv"
    >>> _ = path.write_text("user_id,event_name,event_time\\n"
    ...     "a,home,2024-01-01T10:00:00Z\\na,view,2024-01-01T10:01:00Z\\na,buy,2024-01-01T10:03:00Z\\n"
    ...     "b,home,2024-01-01T10:00:00Z\\nb,buy,2024-01-01T10:00:30Z\\n")
    >>> ws = jl.open(); _ = ws.load_events(path)
    >>> r = transitions(ws.events())
    >>> r.table[["source", "target", "count", "probability_out", "median_seconds"]].values.tolist()
    [['home', 'buy', 1, 0.5, 30.0], ['home', 'view', 1, 0.5, 60.0], ['view', 'buy', 1, 1.0, 120.0]]
    """
    spec = TransitionsSpec(unit, collapse_repeats, rename, min_count, endpoints)
    min_count = spec.min_count
    rows, order = sequence_rows(
        ev, unit=spec.unit, collapse_repeats=spec.collapse_repeats, rename=spec.rename
    )
    query = _graph_and_nodes(
        _stepped(rows, order, ev.engine.name), min_count=min_count, endpoints=endpoints
    )
    frame = ev.engine.run(query, what="the transitions")
    table = _tidy(_edges_of(frame))
    nodes = _nodes(frame, endpoints)
    matrix = (
        table.pivot(index="source", columns="target", values="probability_out")
        .fillna(0.0)
        .reset_index()
        if len(table)
        else pd.DataFrame(columns=["source"])
    )
    matrix.columns = [str(c) for c in matrix.columns]
    return Result(
        "Transitions",
        table,
        SQL.of(query),
        spec.params(),
        draw=lazy_chart("paths", "transition_matrix_chart"),
        extras={"nodes": nodes, "matrix": matrix},
        views={"graph": lazy_chart("paths", "transition_graph_chart")},
    )


def _stepped(rows: ir.Table, order: list[str], engine: str) -> ir.Table:
    """``rows`` with ``pos`` and the next event and time (``target``, ``t_next``) in one window.

    The window functions share one ``(unit, order)`` window, so the engine
    sorts the events once (numbering them first and then sorting again by
    ``pos`` for ``lead`` cost a second full sort). On DuckDB the time travels
    as integer microseconds (``us``, ``us_next``; see :func:`_seconds`).
    """
    window = ibis.window(group_by="unit", order_by=order)
    if engine == "duckdb":
        rows = rows.mutate(us=epoch_us(rows.t))
        return rows.mutate(
            pos=ibis.row_number().over(window).cast("int64"),
            target=rows.event.lead().over(window),
            us_next=rows.us.lead().over(window),
        )
    return rows.mutate(
        pos=ibis.row_number().over(window).cast("int64"),
        target=rows.event.lead().over(window),
        t_next=rows.t.lead().over(window),
    )


def _seconds(stepped: ir.Table) -> ir.FloatingValue:
    """Seconds from each event to the next, to the millisecond (:func:`elapsed_seconds`).

    On DuckDB the whole seconds and milliseconds come from integer
    microseconds by floor division, the same values as
    :func:`journeylib.core.durations.epoch_parts` (whose ``EXTRACT`` on a time with
    a zone goes through ICU and cost several seconds per 10M events),
    combined in the same order, so the results are identical.
    """
    if "us_next" not in stepped.columns:
        return elapsed_seconds(stepped.t, stepped.t_next)
    return elapsed_between(microsecond_parts(stepped.us), microsecond_parts(stepped.us_next))


def _edges(stepped: ir.Table, *, endpoints: bool) -> ir.Table:
    """Per ``(source, target)``: ``count``, ``users``, ``median_seconds``, ``p95_seconds``.

    ``users`` counts the rows of a per-unit grouping rather than a
    ``COUNT(DISTINCT unit)`` per edge, and the times come from
    :func:`_quantiles`: both keep DuckDB's spill bounded at 100M events.
    """
    pairs = stepped.filter(stepped.target.notnull()).select(
        "unit",
        source=stepped.event,
        target=stepped.target,
        seconds=_seconds(stepped),
    )
    if endpoints:
        firsts = stepped.filter(stepped.pos == 0).select(
            "unit",
            source=ibis.literal(START, type="string"),
            target=stepped.event,
            seconds=ibis.null("float64"),
        )
        lasts = stepped.filter(stepped.target.isnull()).select(
            "unit",
            source=stepped.event,
            target=ibis.literal(END, type="string"),
            seconds=ibis.null("float64"),
        )
        pairs = ibis.union(pairs, firsts, lasts, distinct=False)
    per_unit = pairs.group_by(["unit", "source", "target"]).aggregate(made=pairs.count())
    counts = per_unit.group_by(["source", "target"]).aggregate(
        count=per_unit.made.sum().cast("int64"), users=per_unit.count().cast("int64")
    )
    times = _quantiles(pairs)
    edges = counts.left_join(times, ["source", "target"])
    return edges.select("source", "target", "count", "users", *QUANTILES)


def _quantiles(pairs: ir.Table) -> ir.Table:
    """Per ``(source, target)``: the :data:`QUANTILES` of ``seconds``, exact and interpolated.

    Each edge's times are numbered in order by one window sort, and the two
    order statistics around position ``h = (n - 1) * q`` are interpolated,
    ``v[lo] + (v[hi] - v[lo]) * (h - lo)``: ``numpy.quantile``'s default and
    DuckDB's ``quantile_cont``, equal to theirs up to the last bit of a double.
    Fed by the window over 100M events, DuckDB's ``quantile_cont`` aggregate
    spilled more than 25 GB (over the file's times alone it takes 1.5 GiB);
    the sort spills in bounded space.
    """
    timed = pairs.filter(pairs.seconds.notnull())
    edge = ibis.window(group_by=["source", "target"], order_by="seconds")
    numbered = timed.mutate(i=ibis.row_number().over(edge), n=timed.seconds.count().over(edge))
    return numbered.group_by(["source", "target"]).aggregate(
        **{name: _interpolated(numbered, q) for name, q in QUANTILES.items()}
    )


def _interpolated(numbered: ir.Table, q: float) -> ir.FloatingValue:
    """The ``q`` quantile of an edge's ``seconds``, numbered ``i`` from 0 of ``n`` (a reduction)."""
    h = (numbered.n - 1).cast("float64") * q
    no_time = ibis.null("float64")
    low = ibis.ifelse(numbered.i == h.floor(), numbered.seconds, no_time).min()
    high = ibis.ifelse(numbered.i == h.ceil(), numbered.seconds, no_time).min()
    return low + (high - low) * (h - h.floor()).max()


def _weighted(edges: ir.Table, min_count: int) -> ir.Table:
    """The edges with their probabilities (over every edge), then ``count >= min_count``."""
    total_out = edges["count"].sum().over(ibis.window(group_by="source"))
    total_in = edges["count"].sum().over(ibis.window(group_by="target"))
    weighted = edges.mutate(
        probability_out=edges["count"].cast("float64") / total_out.cast("float64"),
        probability_in=edges["count"].cast("float64") / total_in.cast("float64"),
    )
    shown = weighted.filter(weighted["count"] >= min_count)
    return shown.select(*COLUMNS)


def _graph_and_nodes(stepped: ir.Table, *, min_count: int, endpoints: bool) -> ir.Table:
    """One query for the edges, the node table and the number of units (``kind`` tells them apart).

    ``kind`` is ``edge`` (the :data:`COLUMNS`), ``node`` (``source`` the
    event, ``count`` its occurrences, ``users``, ``mean_step``) or ``units``
    (``count``: the units with a sequence). All three read the one window pass.
    """
    edges = _weighted(_edges(stepped, endpoints=endpoints), min_count)
    per_unit = stepped.group_by(["unit", "event"]).aggregate(
        occurrences=stepped.count(), steps=(stepped.pos + 1).sum()
    )
    nodes = per_unit.group_by("event").aggregate(
        count=per_unit.occurrences.sum().cast("int64"),
        users=per_unit.count().cast("int64"),
        mean_step=per_unit.steps.sum().cast("float64") / per_unit.occurrences.sum().cast("float64"),
    )
    firsts = stepped.filter(stepped.pos == 0)
    units = firsts.aggregate(count=firsts.count().cast("int64"))
    no_text = ibis.null("string")
    no_number = ibis.null("float64")
    return ibis.union(
        edges.select(
            kind=ibis.literal("edge", type="string"),
            **{column: edges[column] for column in COLUMNS},
            mean_step=no_number,
        ),
        nodes.select(
            kind=ibis.literal("node", type="string"),
            source=nodes.event,
            target=no_text,
            count=nodes["count"],
            users=nodes.users,
            probability_out=no_number,
            probability_in=no_number,
            median_seconds=no_number,
            p95_seconds=no_number,
            mean_step=nodes.mean_step.cast("float64"),
        ),
        units.select(
            kind=ibis.literal("units", type="string"),
            source=no_text,
            target=no_text,
            count=units["count"],
            users=units["count"],
            probability_out=no_number,
            probability_in=no_number,
            median_seconds=no_number,
            p95_seconds=no_number,
            mean_step=no_number,
        ),
        distinct=False,
    )


def _edges_of(frame: pd.DataFrame) -> pd.DataFrame:
    """The edge rows, by count (descending), then source, then target."""
    edges = frame[frame.kind == "edge"]
    return edges.sort_values(
        ["count", "source", "target"], ascending=[False, True, True], kind="stable"
    )


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    table = frame[COLUMNS].reset_index(drop=True).copy()
    table = table.astype(
        {
            "source": str,
            "target": str,
            "count": "int64",
            "users": "int64",
            "probability_out": "float64",
            "probability_in": "float64",
            "median_seconds": "float64",
            "p95_seconds": "float64",
        }
    )
    return table


def _nodes(frame: pd.DataFrame, endpoints: bool) -> pd.DataFrame:
    """Per event: occurrences, units and mean 1-based position (the graph's layers)."""
    rows = frame[frame.kind == "node"].sort_values("source", kind="stable")
    table = pd.DataFrame(
        {
            "node": rows.source.astype(str).tolist(),
            "occurrences": rows["count"].astype("int64").to_numpy(),
            "users": rows.users.astype("int64").to_numpy(),
            "mean_step": rows.mean_step.astype("float64").to_numpy(),
        }
    )
    if endpoints and len(table):
        n = int(frame[frame.kind == "units"]["count"].sum())
        ends = pd.DataFrame(
            {
                "node": [START, END],
                "occurrences": [n, n],
                "users": [n, n],
                "mean_step": [0.0, float(table.mean_step.max()) + 1.0],
            }
        )
        table = pd.concat([ends.iloc[:1], table, ends.iloc[1:]], ignore_index=True)
    return table.astype({"node": str, "occurrences": "int64", "users": "int64"}).reset_index(
        drop=True
    )


__all__ = ["COLUMNS", "transitions"]
