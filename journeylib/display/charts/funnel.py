"""Funnel charts: the reached bar from the axis, the drop since the step before above it, lighter."""

from __future__ import annotations

from typing import TYPE_CHECKING

import altair as alt
import pandas as pd

from journeylib.display.charts import FONT, base, channel_colour

if TYPE_CHECKING:
    from journeylib.display.result import Result

REACHED = "#1f6feb"
DROPPED = "#c9d7ee"
#: at most this many breakdown groups get a percentage on each bar (more would overlap)
LABELLED_GROUPS = 4
#: the width (px) a breakdown of many groups is drawn to fit: a notebook output, less a legend
FIT_WIDTH = 720


def funnel_chart(result: Result) -> alt.LayerChart:
    """Bars per step as Mixpanel and Amplitude draw them.

    Those who reached the step rise from the axis, those who dropped since the
    step before sit above them in a lighter shade, and each bar is labelled with
    its count and the conversion from the first step and from the previous one.

    A breakdown (``by=``) draws a bar per group within each step, in the group's colour.

    Examples
    --------
    >>> from journeylib.display.result import Result
    >>> from journeylib.core.sql import SQL
    >>> table = pd.DataFrame({"step_index": [1, 2], "step": ["view", "buy"], "users": [10, 4],
    ...     "drop_off": [0, 6], "conversion_rate": [1.0, 0.4], "step_conversion_rate": [1.0, 0.4]})
    >>> spec = funnel_chart(Result("Funnel", table, SQL(""), {"within": "7d"})).to_dict()
    >>> spec["title"]["text"], [layer["mark"]["type"] for layer in spec["layer"]]
    ('Funnel within 7d', ['bar', 'bar', 'text', 'text'])
    """
    by = result.params.get("by")
    count = "sessions" if "sessions" in result.table.columns else "users"
    table = _bars(result.table, count)
    unit = "Sessions" if count == "sessions" else "People"
    names = table.step.astype(str)
    groups: list[str] = list(table[by].astype(str).unique()) if by in table.columns else []
    steps = max(table.label.nunique(), 1)
    # room for a label; beyond LABELLED_GROUPS, bars as wide as lets the chart fit a notebook
    per_group = (
        40
        if len(groups) <= LABELLED_GROUPS
        else max(10, min(24, FIT_WIDTH // (steps * max(len(groups), 1))))
    )
    longest = int(names.str.len().max()) if len(names) else 0
    step_width = max(110, 7 * longest + 16, per_group * len(groups))
    x = alt.X(
        "label:N",
        sort=None,
        title=None,
        axis=alt.Axis(labelAngle=0, labelExpr="split(datum.label, '\\n')", labelLimit=step_width),
    )
    top = float(table.previous.max()) if len(table) else 1.0
    y = alt.Y(
        f"{count}:Q", title=unit, scale=alt.Scale(domain=[0, max(top, 1.0) * 1.15], nice=False)
    )
    tooltip = [
        alt.Tooltip("step:N", title="Step"),
        *([alt.Tooltip(f"{by}:N", title=str(by))] if by in table.columns else []),
        alt.Tooltip(f"{count}:Q", title="Reached", format=","),
        alt.Tooltip("drop_off:Q", title="Dropped since previous", format=","),
        alt.Tooltip("conversion_rate:Q", title="Of step 1", format=".1%"),
        alt.Tooltip("step_conversion_rate:Q", title="Of previous step", format=".1%"),
    ]
    chart = alt.Chart(table).encode(x=x, tooltip=tooltip)
    if by in table.columns:
        colour = (
            channel_colour(by, groups)
            if by == "channel"
            else alt.Color(f"{by}:N", title=str(by).replace("_", " "), sort=groups)
        )
        colour = colour.legend(symbolOpacity=1)  # the faint layer shares this legend
        offset = alt.XOffset(f"{by}:N", sort=groups)
        reached = chart.mark_bar().encode(xOffset=offset, y=y, color=colour)
        dropped = chart.mark_bar(opacity=0.3).encode(
            xOffset=offset, y=y, y2="previous:Q", color=colour
        )
        layers = [reached, dropped]
        if len(groups) <= LABELLED_GROUPS:
            layers.append(
                chart.mark_text(dy=-4, baseline="bottom", fontSize=10, font=FONT).encode(
                    xOffset=offset, y=y, text="of_first:N"
                )
            )
    else:
        reached = chart.mark_bar(color=REACHED).encode(y=y)
        dropped = chart.mark_bar(color=DROPPED).encode(y=y, y2="previous:Q")
        count = chart.mark_text(
            dy=-17, baseline="bottom", fontSize=12, fontWeight="bold", font=FONT
        ).encode(y=y, text="headline:N")
        step = (
            chart.transform_filter("datum.step_index > 1")
            .mark_text(dy=-4, baseline="bottom", fontSize=10, font=FONT, color="#444")
            .encode(y=y, text="of_previous:N")
        )
        layers = [reached, dropped, count, step]
    width = step_width * steps
    layered: alt.LayerChart = alt.LayerChart(layer=layers).properties(
        **{
            **base(result.name),
            "title": _title(result, grouped=by in table.columns),
            "width": width,
        }
    )
    return layered


def _bars(table: pd.DataFrame, count: str) -> pd.DataFrame:
    """The funnel table with what the bars and labels need.

    That is the axis label, the previous step's count (the top of the dropped
    part) and the label texts.
    """
    frame = table.copy()
    previous = frame[count] + frame.drop_off
    return frame.assign(
        label=[f"{s}\nstep {i}" for i, s in zip(frame.step_index, frame.step, strict=True)],
        previous=previous,
        headline=[
            f"{u:,.0f} · {r:.1%}" for u, r in zip(frame[count], frame.conversion_rate, strict=True)
        ],
        of_first=[f"{r:.0%}" for r in frame.conversion_rate],
        of_previous=[f"{r:.1%} of previous" for r in frame.step_conversion_rate],
    )


def _title(result: Result, *, grouped: bool) -> alt.TitleParams:
    """The chart's title with the window, and a subtitle saying how to read the bars."""
    params = result.params
    within = params.get("within")
    text = f"{result.name} within {within}" if within else result.name
    if params.get("window_from") == "previous_step":
        text = f"{result.name}, each step within {within} of the one before"
    if params.get("step_within"):
        text += f" (step windows {', '.join(params['step_within'])})"
    unit = "sessions" if params.get("unit") == "session" else "people"
    how = (
        f"Solid: {unit} who reached the step; faint: dropped since the step before; "
        "labels: % of step 1"
        if grouped
        else f"Dark: {unit} who reached the step; light: dropped since the step before; "
        "labels: reached · % of step 1, then % of the previous step"
    )
    return alt.TitleParams(text, subtitle=how, anchor="start")


def survival_chart(result: Result) -> alt.Chart:
    """Kaplan-Meier step curve: the share converted by each time after the first step.

    Examples
    --------
    >>> from journeylib.core import sql
    >>> from journeylib.display import result
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
    >>> from journeylib.core import sql
    >>> from journeylib.display import result
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
    >>> from journeylib.display.result import Result
    >>> from journeylib.core.sql import SQL
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
