"""Drop-off chart: what the people who left each stage did last."""

from __future__ import annotations

from typing import TYPE_CHECKING

import altair as alt

from journeylib.display.charts import base

if TYPE_CHECKING:
    from journeylib.display.result import Result


def drop_off_chart(result: Result) -> alt.Chart:
    """A bar per stage: the people who left it, split by their last event.

    Examples
    --------
    >>> import pandas as pd
    >>> from journeylib.display.result import Result
    >>> from journeylib.core.sql import SQL
    >>> t = pd.DataFrame({"stage_index": [1], "stage": ["look"], "last_event": ["error"],
    ...                   "people": [20], "share": [1.0]})
    >>> drop_off_chart(Result("Drop-off", t, SQL(""))).to_dict()["encoding"]["color"]["field"]
    'last_event'
    """
    table = result.table
    order = table.sort_values("stage_index").stage.unique().tolist()
    chart: alt.Chart = (
        alt.Chart(table)
        .mark_bar()
        .encode(
            x=alt.X("people:Q", title="People who left the stage"),
            y=alt.Y("stage:N", sort=order, title=None),
            color=alt.Color("last_event:N", title="Their last event"),
            order=alt.Order("people:Q", sort="descending"),
            tooltip=["stage:N", "last_event:N", "people:Q", alt.Tooltip("share:Q", format=".1%")],
        )
        .properties(**base(result.name))
    )
    return chart


__all__ = ["drop_off_chart"]
