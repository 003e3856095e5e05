"""The funnel chart read back from the SVG it renders: bar extents in pixels, labels, title.

The numbers are the ones the analyst saw misread (issue #26): 3,000 started, 2,819 viewed an
item, 2,143 added to the cart. Each bar must rise from the axis to the count that reached
its step, the part that dropped must sit above it up to the previous step's count, and the
labels must say the conversion from the first and from the previous step, worked out here
by hand.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest

import journeylib as jl
from journeylib.core.sql import SQL
from journeylib.display.charts.funnel import funnel_chart
from journeylib.display.result import Result

SVG = "{http://www.w3.org/2000/svg}"


def _svg(result: Result) -> ET.Element:
    markup = result.chart_svg()
    assert markup.startswith("<svg"), markup
    return ET.fromstring(markup)


def _bars(root: ET.Element) -> list[dict[str, object]]:
    """Every bar: its aria-label fields and its vertical extent (top, bottom) in pixels."""
    bars = []
    for path in root.iter(f"{SVG}path"):
        if path.get("aria-roledescription") != "bar":
            continue
        match = re.fullmatch(
            r"M([-\d.e]+),([-\d.e]+)h([-\d.e]+)v([-\d.e]+)h[-\d.e]+Z", path.get("d", "")
        )
        assert match, path.get("d")
        x, y, w, h = (float(v) for v in match.groups())
        fields = dict(part.split(": ", 1) for part in path.get("aria-label", "").split("; "))
        bars.append({**fields, "x": x, "width": w, "top": min(y, y + h), "bottom": max(y, y + h)})
    return bars


def _texts(root: ET.Element) -> list[tuple[str, float, float]]:
    """Every label drawn on the bars: (text, x, y) of its anchor."""
    found = []
    for text in root.iter(f"{SVG}text"):
        if text.get("aria-roledescription") != "text mark":
            continue
        x, y = re.match(r"translate\(([-\d.e]+),([-\d.e]+)\)", text.get("transform", "")).groups()
        found.append(("".join(text.itertext()), float(x), float(y)))
    return found


def _all_text(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def _funnel_table(users: list[int]) -> pd.DataFrame:
    """A funnel table as jl.funnel makes it, from the counts per step (rates by hand)."""
    previous = [users[0], *users[:-1]]
    return pd.DataFrame(
        {
            "step_index": range(1, len(users) + 1),
            "step": ["session_start", "view_item", "add_to_cart"][: len(users)],
            "users": users,
            "conversion_rate": [u / users[0] for u in users],
            "step_conversion_rate": [u / p for u, p in zip(users, previous, strict=True)],
            "drop_off": [p - u for u, p in zip(users, previous, strict=True)],
        }
    )


def test_each_bar_rises_from_the_axis_to_the_people_who_reached_its_step() -> None:
    result = Result(
        "Funnel", _funnel_table([3000, 2819, 2143]), SQL(""), {"within": "7d"}, draw=funnel_chart
    )
    root = _svg(result)
    bars = _bars(root)
    reached = [b for b in bars if "previous" not in b]
    dropped = [b for b in bars if "previous" in b]
    assert [b["Reached"] for b in reached] == ["3,000", "2,819", "2,143"]
    axis = reached[0]["bottom"]
    per_person = (reached[0]["bottom"] - reached[0]["top"]) / 3000
    for bar, people in zip(reached, [3000, 2819, 2143], strict=True):
        assert bar["bottom"] == pytest.approx(axis)  # from the axis, not stacked on the drop
        assert bar["top"] == pytest.approx(axis - people * per_person, abs=0.01)
    # add_to_cart: reached 2,143 (not 2,819) and the 676 who dropped above it, lighter
    cart = next(b for b in dropped if b["Step"] == "add_to_cart")
    assert cart["bottom"] == pytest.approx(axis - 2143 * per_person, abs=0.01)
    assert cart["top"] == pytest.approx(axis - 2819 * per_person, abs=0.01)
    assert cart["Dropped since previous"] == "676"
    fills = {
        p.get("fill") for p in root.iter(f"{SVG}path") if p.get("aria-roledescription") == "bar"
    }
    assert len(fills) == 2  # two shades: reached and dropped


def test_labels_give_conversion_from_the_first_and_from_the_previous_step() -> None:
    result = Result(
        "Funnel", _funnel_table([3000, 2819, 2143]), SQL(""), {"within": "7d"}, draw=funnel_chart
    )
    root = _svg(result)
    texts = _texts(root)
    shown = [t for t, _, _ in texts]
    # 2143 / 3000 = 71.43 %, 2143 / 2819 = 76.02 %, 2819 / 3000 = 93.97 %
    assert "2,143 · 71.4%" in shown and "76.0% of previous" in shown
    assert "2,819 · 94.0%" in shown and "94.0% of previous" in shown
    assert "3,000 · 100.0%" in shown
    assert len([t for t in shown if t.endswith("of previous")]) == 2  # none on the first step
    cart = next(b for b in _bars(root) if b["Step"] == "add_to_cart" and "previous" not in b)
    _, x, y = next(t for t in texts if t[0] == "2,143 · 71.4%")
    assert cart["x"] <= x <= cart["x"] + cart["width"]  # over its own bar
    assert y <= cart["top"]  # above the reached part


def test_step_names_read_horizontally_and_the_title_names_the_window() -> None:
    result = Result(
        "Funnel", _funnel_table([3000, 2819, 2143]), SQL(""), {"within": "7d"}, draw=funnel_chart
    )
    root = _svg(result)
    labels = [t for t in root.iter(f"{SVG}text") if "".join(t.itertext()).startswith("add_to_cart")]
    assert labels and all("rotate" not in t.get("transform", "") for t in labels)
    assert "Funnel within 7d" in _all_text(root)


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> jl.Events:
    """Five people: a, b, c view; a and b add to cart (b two days later); a buys."""
    path = Path(tmp_path_factory.mktemp("log")) / "e.csv"
    path.write_text(
        "user_id,event_name,event_time,platform\n"
        "a,view,2024-01-01T10:00:00Z,web\na,cart,2024-01-01T10:05:00Z,web\n"
        "a,buy,2024-01-01T11:00:00Z,web\n"
        "b,view,2024-01-01T10:00:00Z,app\nb,cart,2024-01-03T10:00:00Z,app\n"
        "c,view,2024-01-02T10:00:00Z,app\n"
    )
    ws = jl.open()
    ws.load_events(path)
    return ws.events()


def test_a_computed_funnel_draws_its_counts_and_window(events: jl.Events) -> None:
    # within 1d: a reaches buy; b's cart comes two days later, so b stops at view
    result = jl.funnel(events, ["view", "cart", "buy"], within="1d")
    root = _svg(result)
    shown = [t for t, _, _ in _texts(root)]
    assert shown[:3] == ["3 · 100.0%", "1 · 33.3%", "1 · 33.3%"]
    assert "33.3% of previous" in shown and "100.0% of previous" in shown
    assert "Funnel within 1d" in _all_text(root)
    reached = [b for b in _bars(root) if "previous" not in b]
    assert [b["Reached"] for b in reached] == ["3", "1", "1"]

    steps = jl.funnel(events, ["view", "cart"], within="3d", window_from="previous_step")
    assert "Funnel, each step within 3d of the one before" in _all_text(_svg(steps))
    sessions = jl.funnel(events, ["view", "cart"], within="3d", unit="session")
    assert "Sessions" in _all_text(_svg(sessions))


def test_a_breakdown_draws_a_bar_per_group_with_its_drop_above_it(events: jl.Events) -> None:
    # app: b and c view, neither adds to the cart within 1d; web: a views and adds
    result = jl.funnel(events, ["view", "cart"], within="1d", by="platform")
    root = _svg(result)
    bars = _bars(root)
    reached = {(b["Step"], b["platform"]): b for b in bars if "previous" not in b}
    dropped = {(b["Step"], b["platform"]): b for b in bars if "previous" in b}
    assert {k: b["Reached"] for k, b in reached.items()} == {
        ("view", "app"): "2",
        ("view", "web"): "1",
        ("cart", "app"): "0",
        ("cart", "web"): "1",
    }
    view = reached[("view", "app")]
    axis, per_person = view["bottom"], (view["bottom"] - view["top"]) / 2
    app_drop = dropped[("cart", "app")]
    assert app_drop["bottom"] == pytest.approx(axis, abs=0.01)  # nobody reached: from the axis
    assert app_drop["top"] == pytest.approx(axis - 2 * per_person, abs=0.01)
    assert sorted(t for t, _, _ in _texts(root)) == ["0%", "100%", "100%", "100%"]
