"""Next-step prediction chart: the probability of each next step after each context."""

from __future__ import annotations

from typing import TYPE_CHECKING

import altair as alt

from journeylib.display.charts import base

if TYPE_CHECKING:
    from journeylib.display.result import Result


def next_steps_chart(result: Result) -> alt.TopLevelMixin:
    """Contexts down, likely next steps across, probability as colour and text.

    Examples
    --------
    >>> import pandas as pd
    >>> from journeylib.display.result import Result
    >>> from journeylib.core.sql import SQL
    >>> t = pd.DataFrame({"context": ["view > cart"], "rank": [1], "next_event": ["buy"],
    ...                   "probability": [0.5], "observations": [10]})
    >>> [layer["mark"]["type"] for layer in next_steps_chart(Result("Next", t, SQL(""))).to_dict()["layer"]]
    ['rect', 'text']
    """
    table = result.table
    order = table.groupby("next_event").probability.sum().sort_values(ascending=False).index
    cell = alt.Chart().encode(
        x=alt.X("next_event:N", title="Next step", sort=order.tolist()),
        y=alt.Y("context:N", title="After"),
    )
    heat = cell.mark_rect().encode(
        color=alt.Color("probability:Q", scale=alt.Scale(scheme="blues"), title="Probability"),
        tooltip=[
            "context:N",
            "next_event:N",
            alt.Tooltip("probability:Q", format=".1%"),
            "observations:Q",
        ],
    )
    text = cell.mark_text(fontSize=10).encode(
        text=alt.Text("probability:Q", format=".0%"),
        color=alt.condition("datum.probability > 0.5", alt.value("white"), alt.value("black")),
    )
    return alt.layer(heat, text, data=table).properties(**base(result.name))


__all__ = ["next_steps_chart"]
