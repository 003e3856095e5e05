"""The data-quality chart: events per day."""

from __future__ import annotations

from typing import TYPE_CHECKING

import altair as alt

from journeylib.display.charts import base

if TYPE_CHECKING:
    from journeylib.display.result import Result


def events_per_day_chart(result: Result) -> alt.Chart:
    """Events per day over the workspace, from a data-quality result's ``events_per_day``.

    Examples
    --------
    >>> import pandas as pd
    >>> from journeylib.display.result import Result
    >>> from journeylib.core.sql import SQL
    >>> days = pd.DataFrame({"day": pd.to_datetime(["2024-01-01", "2024-01-02"]), "events": [5, 7], "users": [2, 3]})
    >>> events_per_day_chart(Result("q", pd.DataFrame(), SQL(""), extras={"events_per_day": days})).mark
    MarkDef({
      point: True,
      type: 'line'
    })
    """
    frame = result.extras["events_per_day"]
    chart: alt.Chart = (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("day:T", title="Day"),
            y=alt.Y("events:Q", title="Events"),
            tooltip=["day:T", "events:Q", "users:Q"],
        )
        .properties(**base("Events per day"))
    )
    return chart


__all__ = ["events_per_day_chart"]
