"""Widgets re-run the analysis on a change, redraw in place, and show errors as messages."""

from __future__ import annotations

import html
from collections.abc import Iterator

import ipywidgets as w
import pandas as pd
import pytest

import journeylib as jl
import journeylib.faces.widgets as widgets_module
from journeylib.analyses.attribution import DEFAULT_MODELS, MODELS
from journeylib.core.sql import SQL
from journeylib.display.result import Result
from journeylib.display.tables import table_html
from journeylib.faces.widgets import (
    AnalysisPanel,
    attribution_widget,
    explore,
    funnel_widget,
    journey_map_widget,
    paths_widget,
    retention_widget,
)
from journeylib.loading.datasets import sample_or


def steps(within: str) -> Result:
    if not within.endswith("d"):
        raise jl.ParameterError("within", within, reason="Give days, e.g. '7d'.")
    days = int(within[:-1])
    table = pd.DataFrame({"step": ["view", "buy"], "users": [10, min(10, days)]})
    return Result(f"Funnel within {within}", table, SQL(f"select {days}"), {"within": within})


def test_a_change_reruns_and_redraws_and_an_error_is_a_message():
    panel = AnalysisPanel("Funnel", steps, {"within": w.Text(value="3d")})
    assert panel.chart.spec["title"] == "Funnel within 3d"
    assert ">3</td>" in panel.table.value

    panel.controls["within"].value = "7d"
    assert panel.chart.spec["title"] == "Funnel within 7d"
    assert panel.result is not None and panel.result.table.users.tolist() == [10, 7]
    assert "select 7" in panel.sql.value

    panel.controls["within"].value = "seven"
    assert "Invalid value &#x27;seven&#x27; for parameter &#x27;within&#x27;" in panel.status.value
    assert panel.chart.spec["title"] == "Funnel within 7d"  # the last good chart is kept,
    assert panel.output.layout.display == "none"  # hidden while the error shows
    panel.controls["within"].value = "2d"
    assert panel.status.value.startswith("<small>Funnel within 2d: ")  # the error is gone
    assert panel.output.layout.display is None


def test_the_status_says_running_while_the_analysis_runs():
    seen: list[str] = []
    panel = AnalysisPanel("Funnel", steps, {"within": w.Text(value="3d")})
    panel.analysis = lambda within: seen.append(panel.status.value) or steps(within)
    panel.controls["within"].value = "5d"
    assert seen == ["<i>running…</i>"]
    assert panel.status.value.startswith("<small>Funnel within 5d: ")


@pytest.fixture(scope="module")
def ev() -> Iterator[jl.Events]:
    ws = sample_or("")
    yield ws.events()
    ws.close()


def shows(panel: AnalysisPanel, expected: Result) -> bool:
    """The panel displays ``expected``: its table (data and HTML), name and chart."""
    assert panel.result is not None, panel.status.value
    pd.testing.assert_frame_equal(panel.result.table, expected.table)
    assert panel.table.value == table_html(expected.table, max_rows=30)
    assert panel.output.layout.display is None  # shown
    assert panel.status.value.startswith(f"<small>{html.escape(expected.name)}: ")
    title = panel.chart.spec["title"]
    assert (title["text"] if isinstance(title, dict) else title) == expected.name
    return True


def error(panel: AnalysisPanel) -> str:
    """The panel's error message (unescaped); an AssertionError when it shows none."""
    assert panel.status.value.startswith('<span style="color:#b00020">⚠ '), panel.status.value
    return html.unescape(panel.status.value)


def test_paths_widget_reruns_next_or_previous_steps(ev):
    panel = paths_widget(ev)
    assert shows(panel, jl.next_steps(ev, "page_view", steps=3))
    assert set(panel.controls["anchor"].options) == set(ev.event_names())

    panel.controls["anchor"].value = "purchase"
    panel.controls["direction"].value = "before"
    panel.controls["steps"].value = 5
    assert shows(panel, jl.previous_steps(ev, "purchase", steps=5))
    assert (panel.controls["steps"].min, panel.controls["steps"].max) == (1, 6)

    panel.controls["direction"].value = "after"
    assert shows(panel, jl.next_steps(ev, "purchase", steps=5))


def test_paths_widget_shows_an_unknown_anchor_or_direction_as_a_message(ev):
    panel = paths_widget(ev, "purchse")
    assert panel.result is None
    assert "No event has this name" in error(panel)
    assert "Did you mean 'purchase'?" in error(panel)
    panel.controls["anchor"].value = "purchase"
    assert shows(panel, jl.next_steps(ev, "purchase", steps=3))

    panel = paths_widget(ev, direction="sideways", steps=2)
    assert "Invalid value 'sideways' for parameter 'direction'" in error(panel)
    panel.controls["direction"].value = "before"
    assert shows(panel, jl.previous_steps(ev, "page_view", steps=2))


def test_attribution_widget_reruns_with_the_conversion_lookback_and_models(ev):
    panel = attribution_widget(ev)
    default = [m for m in DEFAULT_MODELS if m != "w_shaped"]
    assert list(panel.controls["models"].value) == default
    assert panel.controls["models"].options == MODELS
    assert panel.controls["lookback"].options == ("7d", "14d", "30d", "90d")
    assert shows(panel, jl.attribution(ev, "purchase", "30d", default))

    panel.controls["conversion"].value = "sign_up"
    panel.controls["lookback"].value = "90d"
    panel.controls["models"].value = ("linear", "markov")
    assert shows(panel, jl.attribution(ev, "sign_up", "90d", ["linear", "markov"]))


def test_attribution_widget_shows_no_models_as_a_message_and_keeps_the_last_table(ev):
    panel = attribution_widget(ev, models=["first_touch"])
    last = panel.table.value
    panel.controls["models"].value = ()
    assert "Name at least one model." in error(panel)
    assert panel.table.value == last and panel.output.layout.display == "none"
    panel.controls["models"].value = ("last_touch",)
    assert shows(panel, jl.attribution(ev, "purchase", "30d", ["last_touch"]))


def test_retention_widget_reruns_with_period_kind_and_events(ev):
    panel = retention_widget(ev)
    assert panel.controls["start"].options[0] == "(any)"  # None would read as no selection
    assert shows(panel, jl.retention(ev))

    panel.controls["period"].value = "day"
    panel.controls["kind"].value = "unbounded"
    panel.controls["start"].value = "sign_up"
    panel.controls["returning"].value = "purchase"
    assert shows(panel, jl.retention(ev, "sign_up", "purchase", "day", "unbounded"))

    panel.controls["start"].value = "(any)"
    panel.controls["period"].value = "month"
    assert shows(panel, jl.retention(ev, None, "purchase", "month", "unbounded"))


def test_retention_widget_shows_an_unknown_period_as_a_message(ev):
    panel = retention_widget(ev, period="fortnight")
    assert panel.result is None
    assert "Invalid value 'fortnight' for parameter 'period'" in error(panel)
    panel.controls["period"].value = "week"
    assert shows(panel, jl.retention(ev))


def test_journey_map_widget_reruns_with_the_stage_map(ev):
    panel = journey_map_widget(ev)
    # the sample has no share, refer_friend or write_review events: the label says so
    assert panel.controls["stages"].options == (
        ("five_stage", "five_stage"),
        ("hourglass without advocacy", "hourglass"),
        ("aida", "aida"),
    )
    assert shows(panel, jl.journey_map(ev, jl.stages.FIVE_STAGE))
    panel.controls["stages"].value = "hourglass"
    assert shows(panel, jl.journey_map(ev, jl.stages.HOURGLASS.without("advocacy")))
    panel.controls["stages"].value = "aida"
    assert shows(panel, jl.journey_map(ev, jl.stages.AIDA))


def test_journey_map_widget_shows_an_unknown_stage_map_as_a_message(ev):
    panel = journey_map_widget(ev, "hourglas")
    assert "Did you mean 'hourglass'?" in error(panel)
    panel.controls["stages"].value = "hourglass"
    assert shows(panel, jl.journey_map(ev, jl.stages.HOURGLASS.without("advocacy")))


def test_explore_has_a_tab_per_analysis_computed_when_first_shown(ev):
    app = explore(ev)
    assert app.titles == ("Funnel", "Paths", "Attribution", "Retention", "Journey map")
    assert [len(tab.children) for tab in app.children] == [1, 0, 0, 0, 0]
    for index in range(1, 5):
        app.selected_index = index
    panels = [tab.children[0] for tab in app.children]
    statuses = [panel.children[1].value for panel in panels]
    assert [s.split(":")[0] for s in statuses] == [
        "<small>Funnel",
        "<small>Next steps after page_view",
        "<small>Attribution",
        "<small>Retention by week",
        "<small>Journey map",
    ]
    app.selected_index = 1  # shown again: the same panel, not recomputed
    assert app.children[1].children[0] is panels[1]


def test_explore_shows_a_tab_that_cannot_be_built_as_a_message(ev, monkeypatch):
    def broken(ev: jl.Events, steps: list[str] | None) -> AnalysisPanel:
        raise jl.DataError("No events loaded.")

    tabs = {"funnel": lambda ev, steps: funnel_widget(ev, steps), "retention": broken}
    monkeypatch.setattr(widgets_module, "TABS", tabs)
    app = explore(ev)
    assert app.titles == ("Funnel", "Retention")
    app.selected_index = 1
    (message,) = app.children[1].children
    assert "⚠ No events loaded." in message.value


def test_the_package_serves_every_widget_lazily():
    """``import journeylib`` loads neither ipywidgets nor altair; ``jl.<widget>`` loads them."""
    import subprocess
    import sys

    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, journeylib as jl; print('ipywidgets' in sys.modules, 'altair' in sys.modules);"
            " jl.funnel_widget; print('ipywidgets' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.split() == ["False", "False", "True"]
    assert set(jl._WIDGETS) == set(widgets_module.__all__) - {"AnalysisPanel"}
    for name in jl._WIDGETS:
        assert getattr(jl, name) is getattr(widgets_module, name)
        assert name in jl.__all__


# issue #26 step 5: every value of every control works; errors show and clear


def test_the_breakdown_back_to_none_redraws_the_plain_funnel(ev):
    steps = ["session_start", "view_item", "purchase"]
    panel = funnel_widget(ev, steps)
    assert panel.controls["by"].options[0] == "(none)"  # a value, never None
    panel.controls["by"].value = "channel"
    assert panel.result is not None and panel.result.name == "Funnel by channel"
    panel.controls["by"].value = "(none)"
    assert panel.result.name == "Funnel" and panel.result.params["by"] is None
    pd.testing.assert_frame_equal(panel.result.table, jl.funnel(ev, steps).table)


@pytest.mark.slow
def test_every_value_of_every_dropdown_gives_a_result(ev):
    panels = [
        funnel_widget(ev, ["session_start", "purchase"]),
        paths_widget(ev, "purchase"),
        attribution_widget(ev, models=["last_touch"]),
        retention_widget(ev),
        journey_map_widget(ev),
    ]
    for panel in panels:
        for name, control in panel.controls.items():
            if not isinstance(control, w.Dropdown):
                continue
            for label in control.options[:8]:  # events: the first eight
                control.value = label[1] if isinstance(label, tuple) else label
                assert panel.status.value.startswith("<small>"), (name, label, panel.status.value)


def test_an_unexpected_error_is_a_message_and_the_next_change_recovers():
    def fragile(within: str) -> Result:
        if within == "boom":
            raise AttributeError("'NoneType' object has no attribute 'lower'")
        return steps(within)

    panel = AnalysisPanel("Funnel", fragile, {"within": w.Text(value="3d")})
    panel.controls["within"].value = "boom"
    assert "Unexpected AttributeError: 'NoneType' object has no attribute 'lower'" in error(panel)
    assert "running" not in panel.status.value and panel.output.layout.display == "none"
    panel.controls["within"].value = "4d"
    assert panel.status.value.startswith("<small>Funnel within 4d: ")


def test_explore_starts_from_the_notebooks_steps(ev):
    steps = ["session_start", "add_to_cart", "purchase"]
    app = explore(ev, steps)
    for index in (1, 2):
        app.selected_index = index
    funnel_panel, paths_panel, attribution_panel = (app.children[i].children[0] for i in range(3))
    assert "Funnel within 7d" in html.unescape(str(funnel_panel.children[2].children[0].spec))
    funnel_box = funnel_panel.children[0].children[0]
    assert list(funnel_box.value) == steps
    assert paths_panel.children[1].value.startswith("<small>Next steps after session_start")
    assert attribution_panel.children[0].children[0].value == "purchase"


def test_without_steps_the_funnel_starts_from_the_stage_map(ev):
    panel = funnel_widget(ev)
    # the most frequent event of each five-stage stage the sample has, in stage order
    assert list(panel.controls["steps"].value) == [
        "page_view",
        "view_item",
        "add_to_cart",
        "purchase",
        "nps_response",
    ]


def test_controls_show_their_whole_label_at_a_fixed_width(ev):
    panel = retention_widget(ev)
    for control in panel.controls.values():
        assert control.style.description_width == "initial"
        assert control.layout.width == "230px"
    assert funnel_widget(ev).controls["steps"].layout.width == "460px"


def test_the_panel_table_reads_as_percentages_and_durations_without_nan(ev):
    panel = funnel_widget(ev, ["session_start", "view_item", "purchase"])
    assert ">94.0%</td>" in panel.table.value  # view_item: 2,819 of 3,000
    assert ">2,819</td>" in panel.table.value
    assert "NaN" not in panel.table.value and "nan" not in panel.table.value
    assert ">4m 30s</td>" in panel.table.value  # median time from session_start
