"""Interactive controls: an analysis plus widgets that re-run it when they change.

:class:`AnalysisPanel` is the one building block: a row of controls, a status
line, the chart (Altair's offline ``JupyterChart``, redrawn in place), the
table and the SQL. A change of any control re-runs the same public analysis
function with the controls' values; an error shows as a message in the panel,
not a traceback. Each analysis has a ``*_widget`` function building its panel
(:func:`funnel_widget`, :func:`paths_widget`, :func:`attribution_widget`,
:func:`retention_widget`, :func:`journey_map_widget`) from shared control
builders, and :func:`explore` puts one panel per analysis into tabs, each
computed when first shown.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import altair as alt
import ipywidgets as widgets

from journeylib.core.errors import JourneyError, ParameterError
from journeylib.display.registry import ANALYSES
from journeylib.display.result import Result
from journeylib.display.tables import table_html
from journeylib.model.events import Events
from journeylib.model.stages import FIVE_STAGE, SHIPPED, Stages

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
    >>> from journeylib.core.sql import SQL
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
        self.status = widgets.HTML(layout=widgets.Layout(min_height="24px"))
        self.chart = _chart_widget()
        self.chart.layout = widgets.Layout(max_width="100%", overflow="auto")  # wide: scroll
        self.table = widgets.HTML()
        self.sql = widgets.HTML()
        self.output = widgets.VBox(
            [self.chart, self.table, widgets.Accordion(children=[self.sql], titles=("SQL",))]
        )
        self.result: Result | None = None
        self.seconds = 0.0
        for control in self.controls.values():
            _steady(control)
        self.widget = widgets.VBox(
            [
                widgets.HBox(
                    list(self.controls.values()), layout=widgets.Layout(flex_flow="row wrap")
                ),
                self.status,
                self.output,
            ]
        )
        for control in self.controls.values():
            control.observe(lambda _change: self.refresh(), names="value")
        self.refresh()

    def values(self) -> dict[str, Any]:
        """The analysis arguments: the fixed ones plus the controls' current values."""
        return {**self.fixed, **{name: _value(c) for name, c in self.controls.items()}}

    def refresh(self) -> None:
        """Run the analysis with the current values and redraw, or show what went wrong.

        An error replaces the chart and table with its message until a change of
        a control gives a result again; the panel never stays on "running…".
        """
        self.status.value = "<i>running…</i>"
        started = time.perf_counter()
        try:
            result = self.analysis(**self.values())
            chart = result.chart()
            self.chart.chart = cast(Any, chart)  # JupyterChart takes any top-level chart
        except JourneyError as err:
            self._failed(str(err))
            return
        except Exception as err:  # a bug of ours: say so in the panel, keep the controls alive
            self._failed(f"Unexpected {type(err).__name__}: {err}. Please report it.")
            return
        self.seconds = time.perf_counter() - started
        self.result = result
        self.table.value = table_html(result.table, max_rows=30)
        self.sql.value = f"<pre>{html.escape(str(result.sql))}</pre>"
        notes = "".join(f"<br><small>Note: {html.escape(n)}</small>" for n in result.notes)
        self.status.value = (
            f"<small>{html.escape(result.name)}: {self.seconds:.2f} s</small>{notes}"
        )
        self.output.layout.display = None

    def _failed(self, message: str) -> None:
        self.status.value = _error_html(message)
        self.output.layout.display = "none"  # a chart of other values would read as this one

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        bundle: dict[str, Any] | None = self.widget._repr_mimebundle_(**kwargs)
        return bundle


def _value(control: widgets.ValueWidget) -> Any:
    """A control's value as the analysis takes it: ``(any)`` and ``(none)`` are None."""
    value = control.value
    if value in (ANY, NONE):
        return None
    return list(value) if isinstance(value, tuple) else value


def _steady(control: widgets.DOMWidget) -> None:
    """A control whose label shows in full and whose width does not change with its value."""
    control.style.description_width = "initial"
    if control.layout.width is None:
        control.layout.width = "460px" if isinstance(control, widgets.TagsInput) else "230px"
    control.layout.margin = "2px 12px 2px 0"


def _error_html(message: str) -> str:
    return f'<span style="color:#b00020">⚠ {html.escape(message)}</span>'


def _options(options: Sequence[Any], *chosen: Any) -> list[Any]:
    """``options`` plus any ``chosen`` value not among them.

    A value given to a ``*_widget`` function that the control does not offer
    (a typo, an absent event) stays selectable, so the analysis reports it in
    the panel ("did you mean ...") instead of the control refusing it.
    """
    listed = list(options)
    offered = [o[1] if isinstance(o, tuple) else o for o in listed]
    extra = [c for c in dict.fromkeys(chosen) if c not in offered]
    pairs = any(isinstance(o, tuple) for o in listed)  # a control takes pairs or values, not both
    return listed + [(str(c), c) if pairs else c for c in extra]


def _dropdown(description: str, options: Sequence[Any], value: Any) -> widgets.Dropdown:
    """A dropdown of ``options`` (values or ``(label, value)`` pairs) set to ``value``."""
    return widgets.Dropdown(options=_options(options, value), value=value, description=description)


def _events_dropdown(
    description: str, names: Sequence[str], value: str | None, *, any_event: bool = False
) -> widgets.Dropdown:
    """A dropdown of event names; with ``any_event``, ``(any)`` first (the analysis gets None).

    None is never a dropdown's value: ipywidgets reads it as "nothing selected".
    """
    options: list[Any] = [ANY] if any_event else []
    return _dropdown(description, [*options, *names], ANY if value is None else value)


def _pick(names: Sequence[str], preferred: str) -> str:
    """``preferred`` when present (or when there are no names), else the most frequent."""
    return preferred if preferred in names or not names else names[0]


#: "any event" in the event dropdowns (the analysis gets None)
ANY = "(any)"
#: "no breakdown" in the breakdown dropdown (the analysis gets None)
NONE = "(none)"
#: the lookbacks offered by :func:`attribution_widget`
LOOKBACKS = ("7d", "14d", "30d", "90d")
#: the directions offered by :func:`paths_widget`: after → next steps, before → previous steps
DIRECTIONS = ("after", "before")


def explore(ev: Events, steps: Sequence[str] | None = None) -> widgets.Tab:
    """One app with a tab per analysis over ``ev``; every control re-runs its analysis.

    ``steps`` (the notebook's funnel) start the funnel tab, the paths tab's anchor
    (the first step) and attribution's conversion (the last); without them the
    funnel starts from the five-stage map (see :func:`starting_steps`). A tab's
    panel is built and computed when the tab is first shown, so the app opens
    with the funnel alone.

    Examples
    --------
    >>> from journeylib.loading.datasets import sample_or
    >>> app = explore(sample_or("").events())
    >>> app.titles
    ('Funnel', 'Paths', 'Attribution', 'Retention', 'Journey map')
    >>> [len(tab.children) for tab in app.children]  # only the funnel is computed
    [1, 0, 0, 0, 0]
    >>> app.selected_index = 3
    >>> [len(tab.children) for tab in app.children]
    [1, 0, 0, 1, 0]
    """
    names = list(TABS)
    titles = tuple(ANALYSES[name].title for name in names)
    holders = [widgets.VBox() for _ in names]
    tab = widgets.Tab(children=holders, titles=titles)

    def show(index: int | None) -> None:
        if index is None or holders[index].children:
            return
        title, build = titles[index], TABS[names[index]]
        holders[index].children = (widgets.HTML(f"<i>loading {html.escape(title)}…</i>"),)
        try:
            panel = build(ev, steps)
        except JourneyError as err:
            holders[index].children = (widgets.HTML(_error_html(str(err))),)
            return
        holders[index].children = (panel.widget,)

    tab.observe(lambda change: show(change["new"]), names="selected_index")
    show(tab.selected_index)
    return tab


def funnel_widget(ev: Events, steps: Sequence[str] | None = None) -> AnalysisPanel:
    """The funnel with controls: steps (from the event names present), window, mode, breakdown.

    Examples
    --------
    >>> import journeylib as jl
    >>> from journeylib.loading.datasets import sample_or
    >>> ev = sample_or("").events()
    >>> panel = funnel_widget(ev, ["page_view", "purchase"])
    >>> panel.controls["by"].value = "channel"
    >>> panel.result.name
    'Funnel by channel'
    """
    from journeylib.analyses.funnels import funnel
    from journeylib.model.levels import MODES

    names = ev.frequent_event_names(50)
    chosen = list(steps) if steps else starting_steps(names)
    controls = {
        "steps": widgets.TagsInput(
            value=chosen, allowed_tags=names, allow_duplicates=True, description="Steps"
        ),
        "within": _dropdown("Within", ["1h", "1d", "7d", "14d", "30d"], "7d"),
        "mode": _dropdown("Mode", list(MODES), "ordered"),
        "by": _dropdown("By", [NONE, "channel", "source", "medium", "campaign"], NONE),
    }
    return AnalysisPanel("Funnel", funnel, controls, {"ev": ev})


def starting_steps(names: Sequence[str], stages: Stages = FIVE_STAGE) -> list[str]:
    """A first funnel: the most frequent event of each stage the data has, in stage order.

    ``names`` are the event names, most frequent first. With fewer than two
    stages in the data, the three most frequent events.

    Examples
    --------
    >>> starting_steps(["page_view", "session_start", "view_item", "purchase", "login"])
    ['page_view', 'view_item', 'purchase']
    >>> starting_steps(["landing", "product_detail", "order_complete", "other"])
    ['landing', 'product_detail', 'order_complete']
    """
    rank = {name: i for i, name in enumerate(names)}
    chosen = []
    for _, rule in stages.rules():
        present = [e for e in rule.events if e in rank]
        if present:
            chosen.append(min(present, key=rank.__getitem__))
    return chosen if len(chosen) >= 2 else list(names[:3])


def paths_widget(
    ev: Events, anchor: str | None = None, direction: str = "after", steps: int = 3
) -> AnalysisPanel:
    """Path exploration with controls: anchor event, direction (after/before) and depth (1-6).

    ``after`` runs :func:`~journeylib.analyses.paths.next_steps` from the anchor,
    ``before`` :func:`~journeylib.analyses.paths.previous_steps` to it. The anchor
    defaults to the most frequent event.

    Examples
    --------
    >>> import journeylib as jl
    >>> from journeylib.loading.datasets import sample_or
    >>> ev = sample_or("").events()
    >>> panel = paths_widget(ev, "purchase", "before", steps=2)
    >>> panel.result.name
    'Previous steps before purchase'
    >>> panel.controls["direction"].value = "after"
    >>> panel.result.table.equals(jl.next_steps(ev, "purchase", steps=2).table)
    True
    """
    names = ev.frequent_event_names(50)
    controls = {
        "anchor": _events_dropdown("Anchor", names, anchor or _pick(names, "page_view")),
        "direction": _dropdown("Direction", DIRECTIONS, direction),
        "steps": widgets.IntSlider(value=steps, min=1, max=6, description="Depth"),
    }
    return AnalysisPanel("Paths", _path_steps, controls, {"ev": ev})


def _path_steps(ev: Events, anchor: str, direction: str, steps: int) -> Result:
    """next_steps (``after``) or previous_steps (``before``) around ``anchor``."""
    from journeylib.analyses.paths import next_steps, previous_steps

    if direction == "after":
        return next_steps(ev, anchor, steps)
    if direction == "before":
        return previous_steps(ev, anchor, steps)
    raise ParameterError("direction", direction, allowed=DIRECTIONS)


def attribution_widget(
    ev: Events,
    conversion: str | None = None,
    lookback: str = "30d",
    models: Sequence[str] | None = None,
) -> AnalysisPanel:
    """Attribution with controls: conversion event, lookback (7d-90d) and models.

    The conversion defaults to ``purchase`` (when present); the models to
    :data:`~journeylib.analyses.attribution.DEFAULT_MODELS` without ``w_shaped``.

    Examples
    --------
    >>> import journeylib as jl
    >>> from journeylib.loading.datasets import sample_or
    >>> ev = sample_or("").events()
    >>> panel = attribution_widget(ev, models=["first_touch", "last_touch"])
    >>> panel.controls["lookback"].value = "7d"
    >>> panel.result.params["lookback"], sorted(set(panel.result.table.model))
    ('7d', ['first_touch', 'last_touch'])
    >>> panel.controls["models"].value = ()
    >>> "Name at least one model." in panel.status.value  # an error is a message
    True
    """
    from journeylib.analyses.attribution import DEFAULT_MODELS, MODELS, attribution

    names = ev.frequent_event_names(50)
    default = tuple(m for m in DEFAULT_MODELS if m != "w_shaped")
    chosen = tuple(models) if models is not None else default
    controls = {
        "conversion": _events_dropdown("Conversion", names, conversion or _pick(names, "purchase")),
        "lookback": _dropdown("Lookback", LOOKBACKS, lookback),
        "models": widgets.SelectMultiple(
            options=_options(MODELS, *chosen),
            value=chosen,
            rows=len(MODELS),
            description="Models",
        ),
    }
    return AnalysisPanel("Attribution", attribution, controls, {"data": ev})


def retention_widget(
    ev: Events,
    start: str | None = None,
    returning: str | None = None,
    period: str = "week",
    kind: str = "n_day",
) -> AnalysisPanel:
    """Retention with controls: period, kind, and the start and returning events.

    The events are dropdowns of the event names present with ``(any)`` first
    (any event, the default).

    Examples
    --------
    >>> import journeylib as jl
    >>> from journeylib.loading.datasets import sample_or
    >>> ev = sample_or("").events()
    >>> panel = retention_widget(ev, start="sign_up")
    >>> panel.controls["kind"].value = "unbounded"
    >>> panel.result.name
    'Unbounded retention by week'
    >>> panel.result.table.equals(jl.retention(ev, "sign_up", kind="unbounded").table)
    True
    """
    from journeylib.analyses.retention import retention
    from journeylib.model.cohorts import KINDS, PERIODS

    names = ev.frequent_event_names(50)
    controls = {
        "period": _dropdown("Period", PERIODS, period),
        "kind": _dropdown("Kind", KINDS, kind),
        "start": _events_dropdown("Start", names, start, any_event=True),
        "returning": _events_dropdown("Returning", names, returning, any_event=True),
    }
    return AnalysisPanel("Retention", retention, controls, {"ev": ev})


def journey_map_widget(ev: Events, stages: str = "five_stage") -> AnalysisPanel:
    """The journey map with a control for the stage map: five_stage, hourglass or aida.

    A shipped map leaves out the stages the data has no events for, as its label says.

    ``stages`` may also name a YAML stage map (see :meth:`Stages.named`).

    Examples
    --------
    >>> import journeylib as jl
    >>> from journeylib.loading.datasets import sample_or
    >>> ev = sample_or("").events()
    >>> panel = journey_map_widget(ev)
    >>> panel.controls["stages"].value = "aida"
    >>> panel.result.table.equals(jl.journey_map(ev, jl.stages.AIDA).table)
    True
    """
    known = ev.known_event_names()
    options = [(_map_label(name, Stages.named(name).unmatched(known)), name) for name in SHIPPED]
    controls = {"stages": _dropdown("Stage map", options, stages)}
    return AnalysisPanel("Journey map", _journey_map, controls, {"ev": ev})


def _map_label(name: str, unmatched: Sequence[str]) -> str:
    """A shipped map's label, saying which stages the data has no events for."""
    return f"{name} without {', '.join(unmatched)}" if unmatched else name


def _journey_map(ev: Events, stages: str) -> Result:
    """The journey map over the stage map named ``stages``.

    A shipped map leaves out the stages the data has no events for (its label
    says so) while two or more remain.
    """
    from journeylib.analyses.journey_map import journey_map

    chosen = Stages.named(stages)
    if stages in SHIPPED:
        unmatched = chosen.unmatched(ev.known_event_names())
        if unmatched and len(chosen) - len(unmatched) >= 2:
            chosen = chosen.without(*unmatched)
    return journey_map(ev, chosen)


#: the tabs of :func:`explore`, in order: the analysis (its registered name, which
#: gives the tab's title) and how to build its panel from the events and the
#: notebook's steps (or None)
TABS: dict[str, Callable[[Events, Sequence[str] | None], AnalysisPanel]] = {
    "funnel": lambda ev, steps: funnel_widget(ev, steps),
    "paths": lambda ev, steps: paths_widget(ev, steps[0] if steps else None),
    "attribution": lambda ev, steps: attribution_widget(ev, steps[-1] if steps else None),
    "retention": lambda ev, _steps: retention_widget(ev),
    "journey_map": lambda ev, _steps: journey_map_widget(ev),
}


__all__ = [
    "AnalysisPanel",
    "attribution_widget",
    "explore",
    "funnel_widget",
    "journey_map_widget",
    "paths_widget",
    "retention_widget",
]
