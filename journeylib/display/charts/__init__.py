"""Chart builders: pure functions from a Result to an Altair chart, one shared theme.

Each analysis keeps its chart builders in a module here (`charts.funnel`,
`charts.attribution`, ...); this module holds the theme and shared pieces.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

import altair as alt

if TYPE_CHECKING:
    from journeylib.display.result import Result

FONT = "Helvetica, Arial, sans-serif"


#: one colour per default channel group, the same in every chart of a report
CHANNEL_COLOURS = {
    "Direct": "#6b6b6b",
    "Organic Search": "#54a24b",
    "Paid Search": "#4c78a8",
    "Paid Social": "#e45756",
    "Organic Social": "#ff9da6",
    "Email": "#f58518",
    "Affiliates": "#9d755d",
    "Referral": "#b279a2",
    "Display": "#72b7b2",
    "Video": "#eeca3b",
    "SMS": "#bab0ac",
    "Unassigned": "#d8d8d8",
}
#: for channels outside the default groups: picked by the name, so also stable
OTHER_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d")


def channel_colour(field: str, values: Iterable[object], title: str | None = None) -> alt.Color:
    """A colour encoding for channels that gives each channel the same colour in every chart.

    Examples
    --------
    >>> spec = channel_colour("channel", ["Email", "Paid Search"]).to_dict()
    >>> spec["scale"]
    {'domain': ['Email', 'Paid Search'], 'range': ['#f58518', '#4c78a8']}
    """
    domain = sorted({str(v) for v in values})
    colours = [
        CHANNEL_COLOURS.get(name, OTHER_COLOURS[zlib.crc32(name.encode()) % len(OTHER_COLOURS)])
        for name in domain
    ]
    return alt.Color(
        f"{field}:N",
        scale=alt.Scale(domain=domain, range=colours),
        title=title or field.replace("_", " "),
    )


def base(title: str) -> dict[str, object]:
    """Chart properties shared by every journeylib chart."""
    return {"title": title, "width": 520}


def table_chart(result: Result) -> alt.Chart:
    """A plain bar chart of the first numeric column by the first column.

    Examples
    --------
    >>> import pandas as pd
    >>> from journeylib.display.result import Result
    >>> from journeylib.core.sql import SQL
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
