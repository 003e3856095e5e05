"""Chart builders: pure functions from a Result to an Altair chart, one shared theme.

Each analysis keeps its chart builders in a module here (`charts.funnel`,
`charts.attribution`, ...); this module holds the theme and shared pieces.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import altair as alt

if TYPE_CHECKING:
    from journeylib.result import Result

FONT = "Helvetica, Arial, sans-serif"


def base(title: str) -> dict[str, object]:
    """Chart properties shared by every journeylib chart."""
    return {"title": title, "width": 520}


def table_chart(result: Result) -> alt.Chart:
    """A plain bar chart of the first numeric column by the first column.

    Examples
    --------
    >>> import pandas as pd
    >>> from journeylib.result import Result
    >>> from journeylib.sql import SQL
    >>> r = Result("Users", pd.DataFrame({"step": ["a", "b"], "users": [3, 2]}), SQL(""))
    >>> table_chart(r).to_dict()["mark"]["type"]
    'bar'
    """
    frame = result.table
    numeric = [c for c in frame.columns if frame[c].dtype.kind in "if"]
    label = frame.columns[0]
    value = numeric[0] if numeric else frame.columns[-1]
    chart: alt.Chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X(f"{value}:Q", title=str(value).replace("_", " ")),
            y=alt.Y(f"{label}:N", sort=None, title=str(label).replace("_", " ")),
            tooltip=list(frame.columns[:6]),
        )
        .properties(**base(result.name))
    )
    return chart
