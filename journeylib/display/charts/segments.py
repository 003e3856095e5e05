"""Segment charts: segments compared item by item, differences that matter ringed."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import altair as alt

from journeylib.display.charts import base

if TYPE_CHECKING:
    from journeylib.display.result import Result


def comparison_chart(result: Result, analysis: str | None = None) -> alt.FacetChart:
    """Rate by item, a dot per segment, one panel per analysis; significant differences ringed.

    Reads a :func:`journeylib.compare_segments` table (``analysis``, ``item``,
    ``segment``, ``rate``, ``users``, ``base``, ``difference``, ``q_value``,
    ``significant``), or only the rows of ``analysis``.

    Examples
    --------
    >>> import pandas as pd
    >>> from journeylib.display.result import Result
    >>> from journeylib.core.sql import SQL
    >>> table = pd.DataFrame({"analysis": ["funnel"] * 2, "item": ["buy"] * 2,
    ...     "segment": ["a", "b"], "users": [15, 5], "base": [20, 20], "rate": [0.75, 0.25],
    ...     "difference": [0.0, -0.5], "p_value": [None, 0.0016], "q_value": [None, 0.0016],
    ...     "significant": [False, True]})
    >>> spec = comparison_chart(Result("Segments", table, SQL(""))).to_dict()
    >>> [layer["mark"]["type"] for layer in spec["spec"]["layer"]], spec["facet"]["row"]["field"]
    (['rule', 'point', 'point'], 'analysis')
    """
    table = result.table
    if analysis is not None:
        table = table[table.analysis == analysis]
    table = table.assign(
        marked=["different from the first segment" if s else "" for s in table.significant]
    )
    x = alt.X("rate:Q", axis=alt.Axis(format="%"), title="Rate", scale=alt.Scale(domain=[0, 1]))
    y = alt.Y("item:N", sort=None, title=None)
    tooltip = [
        "analysis:N",
        "item:N",
        "segment:N",
        "users:Q",
        "base:Q",
        alt.Tooltip("rate:Q", format=".1%"),
        alt.Tooltip("difference:Q", format="+.1%"),
        alt.Tooltip("q_value:Q", format=".2g", title="q (BH-adjusted p)"),
    ]
    span = alt.Chart().mark_rule(color="#d0d0d0").encode(x="min(rate):Q", x2="max(rate):Q", y=y)
    dots = (
        alt.Chart()
        .mark_point(filled=True, size=70)
        .encode(x=x, y=y, color=alt.Color("segment:N", sort=None, title="Segment"), tooltip=tooltip)
    )
    rings = (
        alt.Chart()
        .transform_filter(alt.datum.significant)
        .mark_point(size=260, strokeWidth=1.5, color="black")
        .encode(x=x, y=y, tooltip=tooltip)
    )
    name = result.name + ("" if analysis is None else f": {analysis}")
    labels = result.params.get("labels") or list(dict.fromkeys(table.segment))
    alpha = result.params.get("alpha", 0.05)
    title = alt.TitleParams(
        name,
        subtitle=f"Ringed: different from {labels[0] if labels else 'the first segment'} "
        f"(Benjamini-Hochberg q < {alpha})",
    )
    chart: alt.FacetChart = (
        alt.layer(span, dots, rings, data=table)
        .properties(width=base(name)["width"])
        .facet(row=alt.Row("analysis:N", sort=None, title=None), title=title)
        .resolve_scale(y="independent")
    )
    return chart


def comparison_view(analysis: str) -> Callable[[Result], alt.FacetChart]:
    """The chart of one analysis of a segment comparison (a Result view).

    Examples
    --------
    >>> callable(comparison_view("funnel"))
    True
    """
    return lambda result: comparison_chart(result, analysis)
