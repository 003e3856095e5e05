"""Attribution charts: models side by side, removal effects, the transition matrix, ROAS."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import altair as alt
import pandas as pd

from journeylib.display.charts import base, channel_colour

if TYPE_CHECKING:
    from journeylib.display.result import Result


def comparison_chart(result: Result) -> alt.TopLevelMixin:
    """Conversions credited to each channel by each model: a dot per model, a line per channel.

    Examples
    --------
    >>> import pandas as pd
    >>> from journeylib.display.result import Result
    >>> from journeylib.core.sql import SQL
    >>> table = pd.DataFrame({"channel": ["a", "a"], "model": ["linear", "markov"],
    ...                       "conversions": [1.0, 2.0], "conversion_share": [0.5, 1.0]})
    >>> spec = comparison_chart(Result("Attribution", table, SQL(""))).to_dict()
    >>> [layer["mark"]["type"] for layer in spec["layer"]], spec["layer"][1]["encoding"]["color"]
    (['rule', 'circle'], {'field': 'model', 'title': 'Model', 'type': 'nominal'})
    """
    return model_bars(
        result.table, "conversions", "Conversions credited", result.name, ",.2f", "conversion_share"
    )


def removal_effects_chart(result: Result) -> alt.Chart:
    """Each channel's Markov removal effect: the share of conversions lost without it.

    Examples
    --------
    >>> import pandas as pd
    >>> from journeylib.display.result import Result
    >>> from journeylib.core.sql import SQL
    >>> effects = pd.DataFrame({"channel": ["a"], "removal_effect": [0.5]})
    >>> r = Result("Attribution", pd.DataFrame(), SQL(""), extras={"removal_effects": effects})
    >>> removal_effects_chart(r).to_dict()["encoding"]["x"]["field"]
    'removal_effect'
    """
    chart: alt.Chart = (
        alt.Chart(result.extras["removal_effects"])
        .mark_bar()
        .encode(
            x=alt.X(
                "removal_effect:Q", axis=alt.Axis(format="%"), title="Conversions lost without it"
            ),
            y=alt.Y("channel:N", sort="-x", title=None),
            color=channel_colour("channel", result.extras["removal_effects"].channel),
            tooltip=["channel:N", alt.Tooltip("removal_effect:Q", format=".1%")],
        )
        .properties(**base("Markov removal effects"))
    )
    return chart


def transition_chart(result: Result) -> alt.Chart:
    """The Markov transition matrix as a heat map (from state down, to state across).

    Examples
    --------
    >>> import pandas as pd
    >>> from journeylib.display.result import Result
    >>> from journeylib.core.sql import SQL
    >>> matrix = pd.DataFrame({"from_state": ["(start)"], "to_state": ["a"], "probability": [1.0]})
    >>> r = Result("Attribution", pd.DataFrame(), SQL(""), extras={"transition_matrix": matrix})
    >>> transition_chart(r).to_dict()["mark"]["type"]
    'rect'
    """
    chart: alt.Chart = (
        alt.Chart(result.extras["transition_matrix"])
        .mark_rect()
        .encode(
            x=alt.X("to_state:N", title="To"),
            y=alt.Y("from_state:N", title="From"),
            color=alt.Color("probability:Q", scale=alt.Scale(scheme="blues"), title="P"),
            tooltip=["from_state:N", "to_state:N", alt.Tooltip("probability:Q", format=".3f")],
        )
        .properties(**base("Markov transition probabilities"))
    )
    return chart


def roas_chart(result: Result) -> alt.TopLevelMixin:
    """Return on ad spend per channel and model (needs the ``roas`` column from spend).

    Examples
    --------
    >>> import pandas as pd
    >>> from journeylib.display.result import Result
    >>> from journeylib.core.sql import SQL
    >>> table = pd.DataFrame({"channel": ["a"], "model": ["linear"], "roas": [2.5]})
    >>> roas_chart(Result("Attribution", table, SQL(""))).to_dict()["layer"][1]["encoding"]["x"]
    {'field': 'roas', 'title': 'Revenue per unit of spend (ROAS)', 'type': 'quantitative'}
    """
    return model_bars(
        result.table.dropna(subset=["roas"]),
        "roas",
        "Revenue per unit of spend (ROAS)",
        "ROAS by model",
        ".2f",
    )


def model_bars(
    frame: pd.DataFrame,
    value: str,
    title: str,
    name: str,
    number_format: str,
    share: str | None = None,
) -> alt.TopLevelMixin:
    """``value`` per channel, a dot per model on one line per channel (a row per lookback if any).

    The grey line spans the models' lowest to highest credit: a long line is a
    channel whose worth depends on the model chosen.
    """
    tooltip: list[Any] = ["channel:N", "model:N", alt.Tooltip(f"{value}:Q", format=number_format)]
    if share:
        tooltip.append(alt.Tooltip(f"{share}:Q", format=".1%"))
    order = frame.groupby("channel")[value].mean().sort_values(ascending=False).index.tolist()
    y = alt.Y("channel:N", title=None, sort=order)
    spread = (
        alt.Chart()
        .mark_rule(color="#bbbbbb", strokeWidth=3)
        .encode(x=alt.X(f"min({value}):Q", title=title), x2=f"max({value}):Q", y=y)
    )
    dots = (
        alt.Chart()
        .mark_circle(size=90, opacity=0.9)
        .encode(
            x=alt.X(f"{value}:Q", title=title),
            y=y,
            color=alt.Color("model:N", title="Model"),
            tooltip=tooltip,
        )
    )
    chart = alt.layer(spread, dots, data=frame)
    if "lookback" in frame.columns:
        faceted: alt.FacetChart = (
            chart.properties(width=520)
            .facet(row=alt.Row("lookback:N", title="Lookback"))
            .properties(title=name)
        )
        return faceted
    return chart.properties(**base(name))


__all__ = [
    "comparison_chart",
    "model_bars",
    "removal_effects_chart",
    "roas_chart",
    "transition_chart",
]
