"""Interactive controls: an analysis plus widgets that re-run it when they change.

:class:`AnalysisPanel` is the one building block: a row of controls, a status
line, the chart (Altair's offline ``JupyterChart``, redrawn in place), the
table and the SQL. A change of any control re-runs the same public analysis
function with the controls' values; an error shows as a message in the panel,
not a traceback. :func:`explore` puts one panel per analysis into tabs.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import altair as alt
import ibis
import ipywidgets as widgets

from journeylib.errors import JourneyError
from journeylib.events import Events
from journeylib.result import Result

Analysis = Callable[..., Result]

_offline = False


def _chart_widget() -> alt.JupyterChart:
    """An offline JupyterChart (the JavaScript bundled from vl-convert, no CDN)."""
    global _offline
    if not _offline:
        alt.JupyterChart.enable_offline()
        _offline = True
    return alt.JupyterChart(alt.Chart().mark_point(), embed_options={"renderer": "svg"})


class AnalysisPanel:
    """Controls that re-run ``analysis`` and redraw its result.

    Examples
    --------
    >>> import pandas as pd, ipywidgets as w
    >>> from journeylib.sql import SQL
    >>> def top(n: int) -> Result:
    ...     return Result(f"Top {n}", pd.DataFrame({"k": list("abc")[:n], "v": [3, 2, 1][:n]}), SQL(""))
    >>> panel = AnalysisPanel("Top", top, {"n": w.IntSlider(value=2, min=1, max=3)})
    >>> panel.result.name
    'Top 2'
    >>> panel.controls["n"].value = 3
    >>> panel.result.name, panel.chart.spec["title"]
    ('Top 3', 'Top 3')
    """

    def __init__(
        self,
        title: str,
        analysis: Analysis,
        controls: Mapping[str, widgets.ValueWidget],
        fixed: Mapping[str, Any] | None = None,
    ) -> None:
        self.title = title
        self.analysis = analysis
        self.controls = dict(controls)
        self.fixed = dict(fixed or {})
        self.status = widgets.HTML()
        self.chart = _chart_widget()
        self.table = widgets.HTML()
        self.sql = widgets.HTML()
        sql_box = widgets.Accordion(children=[self.sql], titles=("SQL",))
        self.result: Result | None = None
        self.seconds = 0.0
        self.widget = widgets.VBox(
            [
                widgets.HBox(
                    list(self.controls.values()), layout=widgets.Layout(flex_flow="row wrap")
                ),
                self.status,
                self.chart,
                self.table,
                sql_box,
            ]
        )
        for control in self.controls.values():
            control.observe(lambda _change: self.refresh(), names="value")
        self.refresh()

    def values(self) -> dict[str, Any]:
        """The analysis arguments: the fixed ones plus the controls' current values."""
        return {**self.fixed, **{name: _value(c) for name, c in self.controls.items()}}

    def refresh(self) -> None:
        """Run the analysis with the current values and redraw (or show the error)."""
        self.status.value = "<i>running…</i>"
        started = time.perf_counter()
        try:
            result = self.analysis(**self.values())
            chart = result.chart()
        except JourneyError as err:
            self.status.value = f'<span style="color:#b00020">⚠ {html.escape(str(err))}</span>'
            return
        self.seconds = time.perf_counter() - started
        self.result = result
        self.chart.chart = cast(Any, chart)  # JupyterChart takes any top-level chart
        self.table.value = result.table.to_html(index=False, max_rows=30)
        self.sql.value = f"<pre>{html.escape(str(result.sql))}</pre>"
        self.status.value = f"<small>{html.escape(result.name)}: {self.seconds:.2f} s</small>"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        bundle: dict[str, Any] | None = self.widget._repr_mimebundle_(**kwargs)
        return bundle


def _value(control: widgets.ValueWidget) -> Any:
    value = control.value
    return list(value) if isinstance(value, tuple) else value


def explore(ev: Events) -> widgets.Tab:
    """One app with a tab per analysis over ``ev``; every control re-runs its analysis.

    Examples
    --------
    >>> import journeylib as jl
    >>> from journeylib.datasets import sample_or
    >>> app = explore(sample_or("").events())
    >>> app.titles
    ('Funnel',)
    """
    return widgets.Tab(children=[funnel_widget(ev).widget], titles=("Funnel",))


def funnel_widget(ev: Events, steps: Sequence[str] | None = None) -> AnalysisPanel:
    """The funnel with controls: steps (from the event names present), window, mode, breakdown."""
    from journeylib.funnels import MODES, funnel

    names = _event_names(ev)
    chosen = list(steps) if steps else names[:3]
    controls = {
        "steps": widgets.TagsInput(
            value=chosen, allowed_tags=names, allow_duplicates=True, description="Steps"
        ),
        "within": widgets.Dropdown(
            options=["1h", "1d", "7d", "14d", "30d"], value="7d", description="Within"
        ),
        "mode": widgets.Dropdown(options=list(MODES), value="ordered", description="Mode"),
        "by": widgets.Dropdown(
            options=[("none", None), "channel", "source", "medium", "campaign"],
            value=None,
            description="By",
        ),
    }
    return AnalysisPanel("Funnel", funnel, controls, {"ev": ev})


def _event_names(ev: Events, top: int = 50) -> list[str]:
    """The most frequent event names, most frequent first."""
    t = ev.table
    counts = (
        t.group_by("event_name")
        .aggregate(n=t.count())
        .order_by(ibis.desc("n"), "event_name")
        .limit(top)
    )
    return [str(name) for name in ev.engine.run(counts, what="listing event names").event_name]


__all__ = ["AnalysisPanel", "explore", "funnel_widget"]
