"""Transitions: the directly-follows graph of consecutive events (SEMANTICS.md §2.2).

Each unit's cleaned sequence (:func:`journeylib.paths.clean_sequence`: ordered
by ``(event_time, event_id)``, renamed, optionally with repeats collapsed)
gives one transition per pair of consecutive events. Per ``(source, target)``
the engine counts them and the units that made them, and aggregates the time
between the two events (median and 95th percentile, interpolated between the
order statistics like ``numpy.quantile``'s default: DuckDB's
``quantile_cont``). Probabilities follow retentioneering's transition graph:
``probability_out`` = count / all transitions out of the source (the edges
out of a node sum to 1), ``probability_in`` = count / all transitions into
the target. With ``endpoints=True`` every sequence is bracketed by
``(start)`` and ``(end)`` (pm4py's start and end activities; no time).
``min_count`` only hides rows: the probabilities are over every transition.
"""

from __future__ import annotations

from collections.abc import Mapping

import ibis
import ibis.expr.types as ir
import pandas as pd

from journeylib.durations import epoch_parts
from journeylib.errors import ParameterError, whole_number
from journeylib.events import Events
from journeylib.paths import END, START, _rules, clean_sequence
from journeylib.result import Result
from journeylib.sql import SQL

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


def transitions(
    ev: Events,
    *,
    unit: str = "user",
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
    min_count = whole_number("min_count", min_count, 1)
    if not isinstance(endpoints, bool):
        raise ParameterError("endpoints", endpoints, allowed=[True, False])
    rules = _rules(rename)
    seq = clean_sequence(ev, unit=unit, collapse_repeats=collapse_repeats, rename=dict(rules))
    graph = transition_table(seq, min_count=min_count, endpoints=endpoints)
    table = ev.engine.run(graph, what="the transitions")
    table = _tidy(table)
    nodes = _nodes(ev, seq, endpoints)
    matrix = (
        table.pivot(index="source", columns="target", values="probability_out")
        .fillna(0.0)
        .reset_index()
        if len(table)
        else pd.DataFrame(columns=["source"])
    )
    matrix.columns = [str(c) for c in matrix.columns]
    params = {
        "unit": unit,
        "collapse_repeats": collapse_repeats,
        "rename": dict(rules),
        "min_count": min_count,
        "endpoints": endpoints,
    }
    from journeylib.charts.paths import transition_graph_chart, transition_matrix_chart

    return Result(
        "Transitions",
        table,
        SQL.of(graph),
        params,
        draw=transition_matrix_chart,
        extras={"nodes": nodes, "matrix": matrix},
        views={"graph": transition_graph_chart},
    )


def transition_table(seq: ir.Table, *, min_count: int = 1, endpoints: bool = False) -> ir.Table:
    """The engine query: one row per ``(source, target)`` with the columns of :data:`COLUMNS`."""
    order = ibis.window(group_by="unit", order_by="pos")
    whole, fraction = epoch_parts(seq.t)
    stamped = seq.mutate(whole=whole, fraction=fraction)
    ahead = stamped.mutate(
        target=stamped.event.lead().over(order),
        whole_next=stamped.whole.lead().over(order),
        fraction_next=stamped.fraction.lead().over(order),
    )
    seconds = (ahead.whole_next - ahead.whole) + (ahead.fraction_next - ahead.fraction)
    pairs = ahead.filter(ahead.target.notnull()).select(
        "unit", source=ahead.event, target=ahead.target, seconds=seconds
    )
    if endpoints:
        firsts = seq.filter(seq.pos == 0).select(
            "unit",
            source=ibis.literal(START, type="string"),
            target=seq.event,
            seconds=ibis.null("float64"),
        )
        lasts = ahead.filter(ahead.target.isnull()).select(
            "unit",
            source=ahead.event,
            target=ibis.literal(END, type="string"),
            seconds=ibis.null("float64"),
        )
        pairs = ibis.union(pairs, firsts, lasts, distinct=False)
    edges = pairs.group_by(["source", "target"]).aggregate(
        count=pairs.count().cast("int64"),
        users=pairs.unit.nunique().cast("int64"),
        median_seconds=pairs.seconds.median(),
        p95_seconds=pairs.seconds.quantile(0.95),
    )
    total_out = edges["count"].sum().over(ibis.window(group_by="source"))
    total_in = edges["count"].sum().over(ibis.window(group_by="target"))
    weighted = edges.mutate(
        probability_out=edges["count"].cast("float64") / total_out.cast("float64"),
        probability_in=edges["count"].cast("float64") / total_in.cast("float64"),
    )
    shown = weighted.filter(weighted["count"] >= min_count)
    return shown.select(*COLUMNS).order_by([ibis.desc("count"), "source", "target"])


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


def _nodes(ev: Events, seq: ir.Table, endpoints: bool) -> pd.DataFrame:
    """Per event: occurrences, units and mean 1-based position (the graph's layers)."""
    nodes = seq.group_by("event").aggregate(
        occurrences=seq.count().cast("int64"),
        users=seq.unit.nunique().cast("int64"),
        mean_step=(seq.pos + 1).mean(),
    )
    frame = ev.engine.run(nodes.order_by("event"), what="the transition nodes")
    frame = frame.rename(columns={"event": "node"})
    if endpoints and len(frame):
        units = ev.engine.run(
            seq.aggregate(n=seq.unit.nunique().cast("int64")), what="counting units"
        )
        n = int(units.n.iloc[0])
        ends = pd.DataFrame(
            {
                "node": [START, END],
                "occurrences": [n, n],
                "users": [n, n],
                "mean_step": [0.0, float(frame.mean_step.max()) + 1.0],
            }
        )
        frame = pd.concat([ends.iloc[:1], frame, ends.iloc[1:]], ignore_index=True)
    return frame.astype({"node": str, "occurrences": "int64", "users": "int64"}).reset_index(
        drop=True
    )


__all__ = ["COLUMNS", "transition_table", "transitions"]
