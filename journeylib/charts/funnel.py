"""Funnel charts: bars of people per step with the drop-off stacked beside them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import altair as alt
import pandas as pd

from journeylib.charts import base, channel_colour

if TYPE_CHECKING:
    from journeylib.result import Result


def funnel_chart(result: Result) -> alt.Chart:
    """Bars per step: people who reached it, and (lighter) those who dropped before it.

    Examples
    --------
    >>> from journeylib.result import Result
    >>> from journeylib.sql import SQL
    >>> table = pd.DataFrame({"step_index": [1, 2], "step": ["view", "buy"], "users": [10, 4],
    ...                       "drop_off": [0, 6], "conversion_rate": [1.0, 0.4]})
    >>> funnel_chart(Result("Funnel", table, SQL(""))).to_dict()["mark"]["type"]
    'bar'
    """
    table = result.table
    keys = [
        c for c in table.columns if c not in {"step_index", "step"} and c == result.params.get("by")
    ]
    long = pd.concat(
        [
            table.assign(people=table.users, status="reached"),
            table.assign(people=table.drop_off, status="dropped before this step"),
        ]
    )
    label = [f"{i}. {s}" for i, s in zip(long.step_index, long.step, strict=True)]
    long = long.assign(label=label)
    chart: alt.Chart = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("label:N", sort=None, title="Step"),
            y=alt.Y("people:Q", stack="zero", title="People"),
            color=alt.Color(
                "status:N",
                scale=alt.Scale(
                    domain=["reached", "dropped before this step"], range=["#1f6feb", "#c9d7ee"]
                ),
                title=None,
            ),
            tooltip=[
                "label:N",
                "status:N",
                "people:Q",
                alt.Tooltip("conversion_rate:Q", format=".1%"),
            ],
        )
        .properties(**base(result.name))
    )
    if keys:  # one bar per value, side by side within each step
        by = keys[0]
        grouped: alt.Chart = (
            alt.Chart(long[long.status == "reached"])
            .mark_bar()
            .encode(
                x=alt.X("label:N", sort=None, title="Step"),
                xOffset=alt.XOffset(f"{by}:N"),
                y=alt.Y("people:Q", title="People"),
                color=(
                    channel_colour(by, long[by])
                    if by == "channel"
                    else alt.Color(f"{by}:N", title=by.replace("_", " "))
                ),
                tooltip=[
                    "label:N",
                    f"{by}:N",
                    "people:Q",
                    alt.Tooltip("conversion_rate:Q", format=".1%"),
                ],
            )
            .properties(**base(result.name))
        )
        return grouped
    return chart


def survival_chart(result: Result) -> alt.Chart:
    """Kaplan-Meier step curve: the share converted by each time after the first step.

    Examples
    --------
    >>> from journeylib import result, sql
    >>> table = pd.DataFrame({"seconds": [60, 3600], "converted_share": [0.5, 0.75]})
    >>> survival_chart(result.Result("Time", table, sql.SQL(""))).to_dict()["mark"]["type"]
    'line'
    """
    table = result.table.assign(hours=result.table.seconds / 3600)
    chart: alt.Chart = (
        alt.Chart(table)
        .mark_line(interpolate="step-after")
        .encode(
            x=alt.X("hours:Q", title="Hours after the first step"),
            y=alt.Y(
                "converted_share:Q", axis=alt.Axis(format="%"), title="Converted (Kaplan-Meier)"
            ),
            tooltip=["seconds:Q", alt.Tooltip("converted_share:Q", format=".1%")],
        )
        .properties(**base(result.name))
    )
    return chart


def trend_chart(result: Result) -> alt.LayerChart:
    """Conversion rate by entry period, with its 95% interval as a band.

    Examples
    --------
    >>> from journeylib import result, sql
    >>> table = pd.DataFrame({"period": pd.to_datetime(["2024-01-01", "2024-01-08"]),
    ...     "conversion_rate": [0.5, 0.4], "conversion_low": [0.3, 0.2],
    ...     "conversion_high": [0.7, 0.6], "entered": [10, 8]})
    >>> sorted(layer["mark"]["type"] for layer in
    ...        trend_chart(result.Result("Trend", table, sql.SQL(""))).to_dict()["layer"])
    ['area', 'line']
    """
    chart = alt.Chart(result.table).encode(x=alt.X("period:T", title="Entry period"))
    band = chart.mark_area(opacity=0.25).encode(y="conversion_low:Q", y2="conversion_high:Q")
    line = chart.mark_line(point=True).encode(
        y=alt.Y("conversion_rate:Q", axis=alt.Axis(format="%"), title="Converted"),
        tooltip=["period:T", "entered:Q", alt.Tooltip("conversion_rate:Q", format=".1%")],
    )
    layered: alt.LayerChart = (band + line).properties(**base(result.name))
    return layered


def segments_chart(result: Result) -> alt.Chart:
    """Conversion from the first step per step, a bar per segment side by side.

    Examples
    --------
    >>> from journeylib.result import Result
    >>> from journeylib.sql import SQL
    >>> table = pd.DataFrame({"segment": ["a", "b"], "step_index": [1, 1], "step": ["view", "view"],
    ...                       "users": [3, 4], "conversion_rate": [1.0, 1.0], "p_value": [1.0, 1.0]})
    >>> segments_chart(Result("Funnel by segment", table, SQL(""))).to_dict()["encoding"]["xOffset"]
    {'field': 'segment', 'type': 'nominal'}
    """
    table = result.table
    labelled = table.assign(
        label=[f"{i}. {s}" for i, s in zip(table.step_index, table.step, strict=True)]
    )
    chart: alt.Chart = (
        alt.Chart(labelled)
        .mark_bar()
        .encode(
            x=alt.X("label:N", sort=None, title="Step"),
            xOffset=alt.XOffset("segment:N"),
            y=alt.Y(
                "conversion_rate:Q",
                axis=alt.Axis(format="%"),
                title="Reached, of those who entered",
            ),
            color=alt.Color("segment:N", title="Segment"),
            tooltip=[
                "segment:N",
                "label:N",
                "users:Q",
                alt.Tooltip("conversion_rate:Q", format=".1%"),
                alt.Tooltip("p_value:Q", format=".2g", title="p (vs first segment)"),
            ],
        )
        .properties(**base(result.name))
    )
    return chart
