"""Drivers chart: odds ratios with their intervals, on a log scale."""

from __future__ import annotations

from typing import TYPE_CHECKING

import altair as alt

from journeylib.display.charts import base

if TYPE_CHECKING:
    from journeylib.display.result import Result


def drivers_chart(result: Result) -> alt.TopLevelMixin:
    """Each feature's odds ratio of converting (dot) and 95% interval (line); 1 means no difference.

    Examples
    --------
    >>> import pandas as pd
    >>> from journeylib.display.result import Result
    >>> from journeylib.core.sql import SQL
    >>> t = pd.DataFrame({"feature": ["reviews"], "odds_ratio": [4.0], "odds_ratio_low": [1.4],
    ...                   "odds_ratio_high": [11.6], "direction": ["more likely"], "p_value": [0.01]})
    >>> [layer["mark"]["type"] for layer in drivers_chart(Result("Drivers", t, SQL(""))).to_dict()["layer"]]
    ['rule', 'circle', 'rule']
    """
    table = result.table
    order = table.sort_values("odds_ratio", ascending=False).feature.tolist()
    y = alt.Y("feature:N", sort=order, title=None)
    x = alt.X(
        "odds_ratio:Q", scale=alt.Scale(type="log"), title="Odds ratio of converting (log scale)"
    )
    colour = alt.Color(
        "direction:N",
        scale=alt.Scale(domain=["more likely", "less likely"], range=["#54a24b", "#e45756"]),
        title="Converters were",
    )
    interval = alt.Chart().mark_rule().encode(x=x, x2="odds_ratio_high:Q", y=y, color=colour)
    interval = interval.encode(x=alt.X("odds_ratio_low:Q", scale=alt.Scale(type="log")))
    dots = (
        alt.Chart()
        .mark_circle(size=80)
        .encode(
            x=x,
            y=y,
            color=colour,
            tooltip=[
                "feature:N",
                alt.Tooltip("odds_ratio:Q", format=".2f"),
                alt.Tooltip("p_value:Q", format=".2g"),
            ],
        )
    )
    even = alt.Chart().mark_rule(strokeDash=[4, 4], color="#888").encode(x=alt.datum(1))
    return alt.layer(interval, dots, even, data=table).properties(**base(result.name))


__all__ = ["drivers_chart"]
