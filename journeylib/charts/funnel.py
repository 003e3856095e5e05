"""Funnel charts: bars of people per step with the drop-off stacked beside them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import altair as alt
import pandas as pd

from journeylib.charts import base

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
                color=alt.Color(f"{by}:N", title=by.replace("_", " ")),
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
