"""Journey map charts: the wall chart (stage totals over a stage x touchpoint grid) and the hourglass."""

from __future__ import annotations

from typing import TYPE_CHECKING

import altair as alt

from journeylib.display.charts import base

if TYPE_CHECKING:
    from journeylib.display.result import Result

SIDE_COLOURS = {"before": "#4c78a8", "purchase": "#f58518", "after": "#54a24b"}


def journey_map_chart(result: Result) -> alt.VConcatChart:
    """People per stage on top; below, each touchpoint's share of each stage and its conversion.

    Examples
    --------
    >>> import pandas as pd
    >>> from journeylib.display.result import Result
    >>> from journeylib.core.sql import SQL
    >>> t = pd.DataFrame({"kind": ["all", "channel"], "touchpoint": ["(all)", "Email"],
    ...     "stage_index": [1, 1], "stage": ["aware", "aware"], "people": [2, 1], "share": [1.0, 0.5],
    ...     "conversion_to_next": [0.5, 1.0]})
    >>> spec = journey_map_chart(Result("Journey map", t, SQL(""))).to_dict()
    >>> [part["mark"]["type"] for part in spec["vconcat"][1]["layer"]]
    ['rect', 'text']
    """
    table = result.table
    stages = table.sort_values("stage_index").stage.unique().tolist()
    x = alt.X("stage:N", sort=stages, title=None, axis=alt.Axis(labelAngle=0, orient="top"))
    totals = (
        alt.Chart(table[table.kind == "all"])
        .mark_bar(color="#4c78a8")
        .encode(
            x=x,
            y=alt.Y("people:Q", title="People"),
            tooltip=[
                "stage:N",
                "people:Q",
                alt.Tooltip("conversion_to_next:Q", format=".1%", title="on to next stage"),
            ],
        )
        .properties(width=560, height=120)
    )
    grid_rows = table[table.kind != "all"].assign(
        row=lambda f: f.touchpoint.where(f.kind == "channel", "event: " + f.touchpoint)
    )
    rows = grid_rows.sort_values(["kind", "people"], ascending=[True, False]).row.unique().tolist()
    cell = alt.Chart().encode(
        x=alt.X("stage:N", sort=stages, title=None, axis=None),
        y=alt.Y("row:N", sort=rows, title=None),
    )
    tooltip = [
        "row:N",
        "stage:N",
        "people:Q",
        alt.Tooltip("share:Q", format=".1%", title="share of the stage"),
        alt.Tooltip("conversion_to_next:Q", format=".1%", title="on to next stage"),
    ]
    tooltip += [
        alt.Tooltip(f"{c}:Q", format=",.1f")
        for c in ("median_hours_in_stage", "revenue", "mean_score")
        if c in grid_rows.columns
    ]
    heat = cell.mark_rect().encode(
        color=alt.Color(
            "share:Q", scale=alt.Scale(scheme="blues"), title="Share of stage", legend=None
        ),
        tooltip=tooltip,
    )
    text = cell.mark_text(fontSize=10).encode(
        text=alt.Text("label:N"),
        color=alt.condition("datum.share > 0.5", alt.value("white"), alt.value("black")),
    )
    labelled = grid_rows.assign(
        label=[
            f"{p:,}" + ("" if c != c else f" · {c:.0%}")
            for p, c in zip(grid_rows.people, grid_rows.conversion_to_next, strict=True)
        ]
    )
    grid = alt.layer(heat, text, data=labelled).properties(width=560, height=alt.Step(22))
    chart: alt.VConcatChart = alt.vconcat(totals, grid, spacing=4).properties(
        title=alt.TitleParams(result.name, subtitle="people · share going on to the next stage")
    )
    return chart


def hourglass_chart(result: Result) -> alt.Chart:
    """People per stage as bars centred on one axis: the funnel before the purchase, the loop after.

    Examples
    --------
    >>> import pandas as pd
    >>> from journeylib.display.result import Result
    >>> from journeylib.core.sql import SQL
    >>> stages = pd.DataFrame({"stage_index": [1, 2], "stage": ["aware", "buy"], "people": [4, 2],
    ...                        "side": ["before", "purchase"]})
    >>> r = Result("Journey map", pd.DataFrame(), SQL(""), extras={"stages": stages})
    >>> hourglass_chart(r).to_dict()["encoding"]["x2"]["field"]
    'right'
    """
    stages = result.extras["stages"]
    frame = stages.assign(left=-stages.people / 2, right=stages.people / 2)
    chart: alt.Chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("left:Q", axis=None),
            x2="right",
            y=alt.Y("stage:N", sort=frame.sort_values("stage_index").stage.tolist(), title=None),
            color=alt.Color(
                "side:N",
                scale=alt.Scale(domain=list(SIDE_COLOURS), range=list(SIDE_COLOURS.values())),
                title="Purchase",
            ),
            tooltip=["stage:N", "people:Q", "side:N"],
        )
        .properties(**base("Hourglass: people per stage"))
    )
    return chart


def stage_of_chart(result: Result) -> alt.Chart:
    """People whose furthest stage is each stage, split by whether they went back a stage.

    Examples
    --------
    >>> import pandas as pd
    >>> from journeylib.display.result import Result
    >>> from journeylib.core.sql import SQL
    >>> t = pd.DataFrame({"user_id": ["a"], "stage_index": [1], "stage": ["aware"], "went_back": [False]})
    >>> stage_of_chart(Result("Stage", t, SQL(""))).to_dict()["encoding"]["x"]["aggregate"]
    'count'
    """
    order = result.table.sort_values("stage_index").stage.unique().tolist()
    chart: alt.Chart = (
        alt.Chart(result.table[["stage", "stage_index", "went_back"]])
        .mark_bar()
        .encode(
            x=alt.X("count():Q", title="People"),
            y=alt.Y("stage:N", sort=order, title="Furthest stage"),
            color=alt.Color("went_back:N", title="Went back a stage"),
            tooltip=["stage:N", "went_back:N", "count():Q"],
        )
        .properties(**base("Where people are in the journey"))
    )
    return chart


__all__ = ["hourglass_chart", "journey_map_chart", "stage_of_chart"]
