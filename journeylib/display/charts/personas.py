"""Persona charts: the personas' profiles as a heat map."""

from __future__ import annotations

from typing import TYPE_CHECKING

import altair as alt
import pandas as pd

from journeylib.display.charts import base

if TYPE_CHECKING:
    from journeylib.display.result import Result


def personas_chart(result: Result) -> alt.LayerChart:
    """Personas down, features across, coloured by the standardised gap from everyone.

    Each cell is labelled with the persona's value.

    Reads ``extras["profiles"]`` of :func:`journeylib.analyses.personas` (``persona``,
    ``feature``, ``value``, ``everyone``, ``z``) and the table's descriptions.

    Examples
    --------
    >>> from journeylib.display.result import Result
    >>> from journeylib.core.sql import SQL
    >>> table = pd.DataFrame({"persona": [1, 2], "people": [6, 6], "description": ["a", "b"]})
    >>> profiles = pd.DataFrame({"persona": [1, 2], "feature": ["converted"] * 2,
    ...     "value": [1.0, 0.0], "everyone": [0.5, 0.5], "z": [1.0, -1.0]})
    >>> spec = personas_chart(Result("Personas", table, SQL(""), extras={"profiles": profiles})).to_dict()
    >>> [layer["mark"]["type"] for layer in spec["layer"]]
    ['rect', 'text']
    """
    profiles = result.extras["profiles"]
    people = result.table.set_index("persona")
    labels = {p: f"Persona {p} ({people.people.get(p, 0)} people)" for p in people.index}
    cells = profiles.assign(
        name=profiles.persona.map(labels),
        description=profiles.persona.map(people.description),
        label=[_label(f, v) for f, v in zip(profiles.feature, profiles.value, strict=True)],
        gap=profiles.z.clip(-2, 2),
    )
    chart = alt.Chart(cells).encode(
        x=alt.X("feature:N", sort=None, title=None, axis=alt.Axis(labelAngle=-40)),
        y=alt.Y("name:N", sort=None, title=None),
    )
    rects = chart.mark_rect().encode(
        color=alt.Color(
            "gap:Q",
            scale=alt.Scale(scheme="redblue", domain=[-2, 2], reverse=True),
            title="vs everyone (sd)",
        ),
        tooltip=[
            "persona:O",
            "description:N",
            "feature:N",
            alt.Tooltip("value:Q", format=".2f"),
            alt.Tooltip("everyone:Q", format=".2f"),
            alt.Tooltip("z:Q", format="+.2f"),
        ],
    )
    text = chart.mark_text(fontSize=10).encode(text="label:N")
    subtitle = [f"{p}: {people.description.get(p, '')}" for p in people.index]
    layered: alt.LayerChart = (rects + text).properties(
        **(base(result.name) | {"title": alt.TitleParams(result.name, subtitle=subtitle)})
    )
    return layered


def _label(feature: str, value: float) -> str:
    """A cell's text: shares as percentages, the rest with one decimal."""
    if pd.isna(value):
        return ""
    if feature == "converted" or feature.startswith("channel "):
        return f"{value:.0%}"
    return f"{value:.1f}"
