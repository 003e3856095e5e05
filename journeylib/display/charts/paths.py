"""Path charts in plain Altair (no extra JavaScript; they render offline through vl-convert).

- :func:`sankey_chart`: step columns of stacked node bars, with bands between
  neighbouring columns whose thickness is the units on that edge (for
  ``next_steps`` / ``previous_steps`` and for ``paths``, whose paths are cut
  into step-to-step links: like retentioneering's, the bands do not trace
  individual paths across more than one hop).
- :func:`step_matrix_chart`: the step matrix as a heat map.
- :func:`transition_graph_chart` and :func:`transition_matrix_chart`: the
  directly-follows graph (nodes layered by their mean step, or on a circle;
  edges as rules as wide as their count) and its probability matrix.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import altair as alt
import pandas as pd

from journeylib.display.charts import base

if TYPE_CHECKING:
    from journeylib.display.result import Result

#: node names drawn below the rest of their column
TAIL = ("other", "…", "(end)", "(start)")
NODE_WIDTH = 0.06
SAMPLES = 16


def sankey_links(result: Result) -> pd.DataFrame:
    """Step-to-step links of a path result: ``source_step``, ``source``, ``target_step``, ``target``, ``users``.

    Examples
    --------
    >>> from journeylib.display.result import Result
    >>> from journeylib.core.sql import SQL
    >>> table = pd.DataFrame({"path": ["a > b", "a", "other"], "steps": [2, 1, None],
    ...                       "users": [3, 1, 2], "share": [0.5, 0.2, 0.3]})
    >>> sankey_links(Result("Paths", table, SQL(""))).values.tolist()
    [[0, 'a', 1, 'b', 3]]
    """
    table = result.table
    rows: list[tuple[int, str, int, str, int]] = []
    if "parent" in table.columns:
        for step, event, parent, users in zip(
            table.step, table.event, table.parent, table.users, strict=True
        ):
            if step == 0 or parent is None or pd.isna(parent):
                continue
            if step > 0:
                rows.append((int(step) - 1, str(parent), int(step), str(event), int(users)))
            else:
                rows.append((int(step), str(event), int(step) + 1, str(parent), int(users)))
    elif "path" in table.columns:
        for path, steps, users in zip(table.path, table.steps, table.users, strict=True):
            if pd.isna(steps):  # the folded "other" row
                continue
            names = str(path).split(" > ")
            for i in range(len(names) - 1):
                rows.append((i, names[i], i + 1, names[i + 1], int(users)))
    links = pd.DataFrame(rows, columns=["source_step", "source", "target_step", "target", "users"])
    keys = ["source_step", "source", "target_step", "target"]
    summed: pd.DataFrame = links.groupby(keys, as_index=False, sort=True).agg(
        users=("users", "sum")
    )
    return summed


def sankey_layout(links: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Node rectangles and band outlines of a Sankey diagram.

    Nodes have ``step``, ``node``, ``x``, ``x2``, ``y``, ``y2``, ``users``;
    bands ``link``, ``x``, ``y``, ``y2``, ``source``, ``target``, ``users``.

    Examples
    --------
    >>> links = pd.DataFrame({"source_step": [0, 0], "source": ["a", "a"],
    ...     "target_step": [1, 1], "target": ["b", "c"], "users": [3, 1]})
    >>> nodes, bands = sankey_layout(links)
    >>> nodes[["node", "users"]].values.tolist()
    [['a', 4], ['b', 3], ['c', 1]]
    >>> bands.link.nunique()
    2
    """
    out: dict[tuple[int, str], int] = {}
    into: dict[tuple[int, str], int] = {}
    for s_step, s, t_step, t, users in links.itertuples(index=False):
        out[(s_step, s)] = out.get((s_step, s), 0) + int(users)
        into[(t_step, t)] = into.get((t_step, t), 0) + int(users)
    value = {key: max(out.get(key, 0), into.get(key, 0)) for key in {*out, *into}}
    steps = sorted({step for step, _ in value})
    column = {step: i for i, step in enumerate(steps)}
    totals = [sum(v for (s, _), v in value.items() if s == step) for step in steps]
    gap = max(max(totals, default=1) * 0.04, 0.5)
    place: dict[tuple[int, str], tuple[float, float]] = {}
    order: dict[tuple[int, str], int] = {}
    node_rows = []
    for step in steps:
        here = sorted(
            (key for key in value if key[0] == step),
            key=lambda key: (
                key[1] in TAIL,
                TAIL.index(key[1]) if key[1] in TAIL else 0,
                -value[key],
                key[1],
            ),
        )
        y = 0.0
        for i, key in enumerate(here):
            place[key] = (y, y + value[key])
            order[key] = i
            x = float(column[step])
            node_rows.append((step, key[1], x, x + NODE_WIDTH, y, y + value[key], value[key]))
            y += value[key] + gap
    nodes = pd.DataFrame(node_rows, columns=["step", "node", "x", "x2", "y", "y2", "users"])
    source_used = {key: 0.0 for key in value}
    target_used = {key: 0.0 for key in value}
    records = [
        (int(a), str(b), int(c), str(d), int(u)) for a, b, c, d, u in links.itertuples(index=False)
    ]
    by_source = sorted(records, key=lambda r: (order[(r[0], r[1])], order[(r[2], r[3])]))
    source_y: dict[tuple[int, str, int, str], float] = {}
    for s_step, s, t_step, t, users in by_source:
        source_y[(s_step, s, t_step, t)] = place[(s_step, s)][0] + source_used[(s_step, s)]
        source_used[(s_step, s)] += users
    by_target = sorted(records, key=lambda r: (order[(r[2], r[3])], order[(r[0], r[1])]))
    band_rows = []
    for number, (s_step, s, t_step, t, users) in enumerate(by_target):
        y_target = place[(t_step, t)][0] + target_used[(t_step, t)]
        target_used[(t_step, t)] += users
        y_source = source_y[(s_step, s, t_step, t)]
        x0, x1 = column[s_step] + NODE_WIDTH, float(column[t_step])
        for i in range(SAMPLES + 1):
            f = i / SAMPLES
            smooth = f * f * (3 - 2 * f)
            top = y_source + (y_target - y_source) * smooth
            band_rows.append((number, x0 + (x1 - x0) * f, top, top + users, s, t, users))
    bands = pd.DataFrame(band_rows, columns=["link", "x", "y", "y2", "source", "target", "users"])
    return nodes, bands


def sankey_chart(result: Result) -> alt.LayerChart:
    """A Sankey of a ``next_steps`` / ``previous_steps`` / ``paths`` result.

    Examples
    --------
    >>> from journeylib.display.result import Result
    >>> from journeylib.core.sql import SQL
    >>> table = pd.DataFrame({"step": [0, 1, 1], "event": ["a", "b", "(end)"],
    ...     "parent": [None, "a", "a"], "users": [4, 3, 1], "share": [1.0, 0.75, 0.25]})
    >>> spec = sankey_chart(Result("Next steps", table, SQL(""))).to_dict()
    >>> sorted(layer["mark"]["type"] for layer in spec["layer"])
    ['area', 'rect', 'text']
    """
    nodes, bands = sankey_layout(sankey_links(result))
    if nodes.empty:
        nodes = pd.DataFrame(
            {
                "step": [0],
                "node": ["(no paths)"],
                "x": [0.0],
                "x2": [NODE_WIDTH],
                "y": [0.0],
                "y2": [1.0],
                "users": [0],
            }
        )
    high = float(nodes.y2.max()) or 1.0
    right = float(nodes.x.max()) + 0.6
    x_scale = alt.Scale(domain=[-0.05, right])
    y_scale = alt.Scale(domain=[0, high], reverse=True)
    hidden = alt.Axis(labels=False, ticks=False, domain=False, grid=False, title=None)
    band_layer = (
        alt.Chart(bands)
        .mark_area(opacity=0.35, interpolate="monotone")
        .encode(
            x=alt.X("x:Q", scale=x_scale, axis=hidden),
            y=alt.Y("y:Q", scale=y_scale, axis=hidden),
            y2="y2:Q",
            detail="link:N",
            color=alt.Color("target:N", legend=None),
            tooltip=["source:N", "target:N", "users:Q"],
        )
    )
    node_layer = (
        alt.Chart(nodes)
        .mark_rect(color="#24292f")
        .encode(
            x=alt.X("x:Q", scale=x_scale, axis=hidden),
            x2="x2:Q",
            y=alt.Y("y:Q", scale=y_scale, axis=hidden),
            y2="y2:Q",
            tooltip=["step:Q", "node:N", "users:Q"],
        )
    )
    labels = nodes.assign(mid=(nodes.y + nodes.y2) / 2, label_x=nodes.x2 + 0.02)
    label_layer = (
        alt.Chart(labels)
        .mark_text(align="left", baseline="middle", fontSize=11)
        .encode(
            x=alt.X("label_x:Q", scale=x_scale, axis=hidden),
            y=alt.Y("mid:Q", scale=y_scale, axis=hidden),
            text="node:N",
        )
    )
    chart: alt.LayerChart = (band_layer + node_layer + label_layer).properties(
        height=360, **base(result.name)
    )
    return chart


def step_matrix_chart(result: Result) -> alt.LayerChart:
    """The step matrix as a heat map: events down, steps across, share in each cell.

    Examples
    --------
    >>> from journeylib.display.result import Result
    >>> from journeylib.core.sql import SQL
    >>> table = pd.DataFrame({"step": [1, 2], "event": ["a", "(end)"], "users": [2, 2],
    ...                       "share": [1.0, 1.0]})
    >>> spec = step_matrix_chart(Result("Step matrix", table, SQL(""))).to_dict()
    >>> [layer["mark"]["type"] for layer in spec["layer"]]
    ['rect', 'text']
    """
    table = result.table
    events = list(
        dict.fromkeys(table.sort_values(["step", "users"], ascending=[True, False]).event)
    )
    events = [e for e in events if e not in TAIL] + [e for e in events if e in TAIL]
    cells = alt.Chart(table).encode(
        x=alt.X("step:O", title="Step"),
        y=alt.Y("event:N", sort=events, title=None),
    )
    heat = cells.mark_rect().encode(
        color=alt.Color("share:Q", scale=alt.Scale(scheme="blues", domain=[0, 1]), title="Share"),
        tooltip=["step:O", "event:N", "users:Q", alt.Tooltip("share:Q", format=".1%")],
    )
    text = cells.mark_text(fontSize=10).encode(
        text=alt.Text("share:Q", format=".0%"),
        color=alt.condition("datum.share > 0.5", alt.value("white"), alt.value("black")),
    )
    chart: alt.LayerChart = (heat + text).properties(**base(result.name))
    return chart


def graph_layout(nodes: pd.DataFrame, layout: str = "layered") -> pd.DataFrame:
    """Node positions ``x``, ``y`` for the transition graph.

    ``layered``: columns by the rounded mean step, each column's nodes by
    occurrences; ``circle``: evenly on a circle, by mean step.

    Examples
    --------
    >>> nodes = pd.DataFrame({"node": ["a", "b", "c"], "occurrences": [5, 3, 2],
    ...                       "mean_step": [1.0, 2.2, 1.9]})
    >>> graph_layout(nodes)[["node", "x", "y"]].values.tolist()
    [['a', 0.0, 0.0], ['b', 1.0, 0.0], ['c', 1.25, 1.0]]
    """
    frame = nodes.sort_values(["mean_step", "node"]).reset_index(drop=True)
    if layout == "circle":
        n = max(len(frame), 1)
        angle = [2 * math.pi * i / n for i in range(len(frame))]
        return frame.assign(x=[math.cos(a) for a in angle], y=[math.sin(a) for a in angle])
    layers = frame.mean_step.round().astype("int64")
    rank = {v: i for i, v in enumerate(sorted(set(layers)))}
    frame = frame.assign(x=[float(rank[v]) for v in layers])
    frame = frame.sort_values(["x", "occurrences", "node"], ascending=[True, False, True])
    frame["y"] = frame.groupby("x").cumcount().astype("float64")
    # stagger alternate nodes of a column so edges inside a layer do not hide each other
    frame["x"] = frame.x + 0.25 * (frame.y % 2)
    return frame.sort_values(["x", "y"]).reset_index(drop=True)


def transition_graph_chart(result: Result, layout: str = "layered") -> alt.LayerChart:
    """The transition graph: nodes (size by occurrences), edges as rules (width by count).

    Examples
    --------
    >>> from journeylib.display.result import Result
    >>> from journeylib.core.sql import SQL
    >>> table = pd.DataFrame({"source": ["a"], "target": ["b"], "count": [3], "users": [2],
    ...                       "probability_out": [1.0], "probability_in": [1.0],
    ...                       "median_seconds": [5.0], "p95_seconds": [9.0]})
    >>> nodes = pd.DataFrame({"node": ["a", "b"], "occurrences": [3, 3], "users": [2, 2],
    ...                       "mean_step": [1.0, 2.0]})
    >>> r = Result("Transitions", table, SQL(""), extras={"nodes": nodes})
    >>> [layer["mark"]["type"] for layer in transition_graph_chart(r).to_dict()["layer"]]
    ['rule', 'circle', 'text']
    """
    table = result.table
    nodes = result.extras.get("nodes")
    if nodes is None or nodes.empty:
        names = sorted({*table.source, *table.target})
        nodes = pd.DataFrame(
            {
                "node": names,
                "occurrences": [1] * len(names),
                "users": [1] * len(names),
                "mean_step": [float(i) for i in range(len(names))],
            }
        )
    placed = graph_layout(nodes, layout)
    at = placed.set_index("node")[["x", "y"]]
    edges = table[table.source != table.target]
    edges = (
        edges.join(at, on="source").join(at.add_suffix("2"), on="target").dropna(subset=["x", "x2"])
    )
    hidden = alt.Axis(labels=False, ticks=False, domain=False, grid=False, title=None)
    y_scale = alt.Scale(reverse=True, padding=20)
    rules = (
        alt.Chart(edges)
        .mark_rule(strokeCap="round")
        .encode(
            x=alt.X("x:Q", axis=hidden, scale=alt.Scale(padding=30)),
            y=alt.Y("y:Q", axis=hidden, scale=y_scale),
            x2="x2:Q",
            y2="y2:Q",
            strokeWidth=alt.StrokeWidth("count:Q", scale=alt.Scale(range=[0.5, 10]), title="Count"),
            opacity=alt.Opacity(
                "probability_out:Q", scale=alt.Scale(range=[0.2, 0.8]), legend=None
            ),
            tooltip=[
                "source:N",
                "target:N",
                "count:Q",
                "users:Q",
                alt.Tooltip("probability_out:Q", format=".2f"),
                alt.Tooltip("probability_in:Q", format=".2f"),
                alt.Tooltip("median_seconds:Q", format=",.0f"),
            ],
        )
    )
    dots = (
        alt.Chart(placed)
        .mark_circle(color="#1f6feb", opacity=0.9)
        .encode(
            x=alt.X("x:Q", axis=hidden, scale=alt.Scale(padding=30)),
            y=alt.Y("y:Q", axis=hidden, scale=y_scale),
            size=alt.Size("occurrences:Q", scale=alt.Scale(range=[60, 900]), legend=None),
            tooltip=[
                "node:N",
                "occurrences:Q",
                "users:Q",
                alt.Tooltip("mean_step:Q", format=".1f"),
            ],
        )
    )
    labels = (
        alt.Chart(placed)
        .mark_text(dy=-14, fontSize=11)
        .encode(
            x=alt.X("x:Q", axis=hidden, scale=alt.Scale(padding=30)),
            y=alt.Y("y:Q", axis=hidden, scale=y_scale),
            text="node:N",
        )
    )
    chart: alt.LayerChart = (rules + dots + labels).properties(height=360, **base(result.name))
    return chart


def transition_matrix_chart(result: Result) -> alt.Chart:
    """The transition probabilities (``probability_out``) as a heat map, sources down.

    Examples
    --------
    >>> from journeylib.display.result import Result
    >>> from journeylib.core.sql import SQL
    >>> table = pd.DataFrame({"source": ["a"], "target": ["b"], "count": [3],
    ...                       "probability_out": [1.0], "probability_in": [1.0]})
    >>> transition_matrix_chart(Result("Transitions", table, SQL(""))).to_dict()["mark"]["type"]
    'rect'
    """
    chart: alt.Chart = (
        alt.Chart(result.table)
        .mark_rect()
        .encode(
            x=alt.X("target:N", title="To"),
            y=alt.Y("source:N", title="From"),
            color=alt.Color(
                "probability_out:Q", scale=alt.Scale(scheme="blues", domain=[0, 1]), title="P(out)"
            ),
            tooltip=[
                "source:N",
                "target:N",
                "count:Q",
                alt.Tooltip("probability_out:Q", format=".3f"),
                alt.Tooltip("probability_in:Q", format=".3f"),
            ],
        )
        .properties(**base(f"{result.name}: transition matrix"))
    )
    return chart


__all__ = [
    "graph_layout",
    "sankey_chart",
    "sankey_layout",
    "sankey_links",
    "step_matrix_chart",
    "transition_graph_chart",
    "transition_matrix_chart",
]
