"""Retention charts: the cohort heatmap (default) and the retention curves.

Both read a :func:`journeylib.analyses.retention` result table: ``cohort``, ``period``,
``users``, ``rate``, ``complete`` (and ``cohort_size``), with ``overall`` rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import altair as alt
import pandas as pd

from journeylib.display.charts import base

if TYPE_CHECKING:
    from journeylib.display.result import Result

OVERALL = "overall"


def _cells(result: Result) -> pd.DataFrame:
    """The table with a label for completeness and a text colour per cell."""
    table = result.table.copy()
    table["cohort"] = table.cohort.astype(str)
    table["status"] = ["complete" if c else "incomplete" for c in table.complete]
    table["label"] = [f"{r:.0%}" if pd.notna(r) else "" for r in table.rate]
    return table


def heatmap_chart(result: Result) -> alt.LayerChart:
    """Cohorts (rows, overall last) by period (columns), coloured and labelled by rate.

    Incomplete cells (the period had not ended when the data did) are faded and
    outlined with a dashed border; the overall row uses complete cells only.

    Examples
    --------
    >>> from journeylib.display.result import Result
    >>> from journeylib.core.sql import SQL
    >>> table = pd.DataFrame({"cohort": ["2024-01-01", "2024-01-01", "overall", "overall"],
    ...     "cohort_size": [4, 4, 4, 0], "period": [0, 1, 0, 1], "users": [4, 1, 4, 0],
    ...     "rate": [1.0, 0.25, 1.0, float("nan")], "complete": [True, False, True, False]})
    >>> spec = heatmap_chart(Result("Retention", table, SQL(""))).to_dict()
    >>> [layer["mark"]["type"] for layer in spec["layer"]]
    ['rect', 'rect', 'text']
    """
    table = _cells(result)
    order = [*[c for c in table.cohort.unique() if c != OVERALL], OVERALL]
    by = result.params.get("by")
    y = alt.Y("cohort:N", sort=order, title=str(by).replace("_", " ") if by else "Cohort")
    x = alt.X("period:O", title="Period")
    chart = alt.Chart(table).encode(x=x, y=y)
    tooltip = [
        alt.Tooltip("cohort:N"),
        alt.Tooltip("period:O"),
        alt.Tooltip("users:Q"),
        alt.Tooltip("cohort_size:Q"),
        alt.Tooltip("rate:Q", format=".1%"),
        alt.Tooltip("status:N"),
    ]
    cells = chart.mark_rect().encode(
        color=alt.Color(
            "rate:Q",
            scale=alt.Scale(domain=[0, 1], scheme="blues"),
            legend=alt.Legend(format="%"),
            title="Retained",
        ),
        opacity=alt.condition("datum.complete", alt.value(1.0), alt.value(0.35)),
        tooltip=tooltip,
    )
    open_cells = (
        alt.Chart(table[~table.complete.astype(bool)])
        .mark_rect(fillOpacity=0, stroke="#6e7781", strokeDash=[3, 3], strokeWidth=1)
        .encode(x=x, y=y, tooltip=tooltip)
    )
    text = chart.mark_text(fontSize=10).encode(
        text="label:N",
        color=alt.condition("datum.rate > 0.5", alt.value("white"), alt.value("#24292f")),
        opacity=alt.condition("datum.complete", alt.value(1.0), alt.value(0.6)),
    )
    layered: alt.LayerChart = (cells + open_cells + text).properties(**base(result.name))
    return layered


def curve_chart(result: Result) -> alt.LayerChart:
    """Retention curves: one thin line per cohort and the overall line (complete cells) in bold.

    Examples
    --------
    >>> from journeylib.display.result import Result
    >>> from journeylib.core.sql import SQL
    >>> table = pd.DataFrame({"cohort": ["2024-01-01", "2024-01-01", "overall", "overall"],
    ...     "cohort_size": [4, 4, 4, 0], "period": [0, 1, 0, 1], "users": [4, 1, 4, 0],
    ...     "rate": [1.0, 0.25, 1.0, float("nan")], "complete": [True, False, True, False]})
    >>> spec = curve_chart(Result("Retention", table, SQL(""))).to_dict()
    >>> [layer["mark"]["type"] for layer in spec["layer"]]
    ['line', 'line']
    """
    table = _cells(result)
    cohorts = table[table.cohort != OVERALL]
    overall = table[(table.cohort == OVERALL) & table.complete.astype(bool)]
    x = alt.X("period:Q", title="Period", axis=alt.Axis(tickMinStep=1))
    y = alt.Y("rate:Q", axis=alt.Axis(format="%"), title="Retained", scale=alt.Scale(domain=[0, 1]))
    by = result.params.get("by")
    lines = (
        alt.Chart(cohorts)
        .mark_line(point=True, strokeWidth=1, opacity=0.55)
        .encode(
            x=x,
            y=y,
            color=alt.Color("cohort:N", title=str(by).replace("_", " ") if by else "Cohort"),
            strokeDash=alt.StrokeDash(
                "status:N",
                scale=alt.Scale(domain=["complete", "incomplete"], range=[[1, 0], [4, 3]]),
                title=None,
            ),
            tooltip=[
                "cohort:N",
                "period:Q",
                "users:Q",
                "cohort_size:Q",
                alt.Tooltip("rate:Q", format=".1%"),
                "status:N",
            ],
        )
    )
    mean = (
        alt.Chart(overall)
        .mark_line(point=True, strokeWidth=3, color="#24292f")
        .encode(
            x=x,
            y=y,
            tooltip=[
                "period:Q",
                "users:Q",
                "cohort_size:Q",
                alt.Tooltip("rate:Q", format=".1%", title="overall"),
            ],
        )
    )
    layered: alt.LayerChart = (lines + mean).properties(**base(result.name))
    return layered


__all__ = ["curve_chart", "heatmap_chart"]
