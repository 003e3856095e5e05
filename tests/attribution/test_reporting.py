"""Sensitivity over lookbacks and Markov orders, bootstrap intervals, spend, charts."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

import journeylib as jl
from journeylib.analyses.attribution import attribution

GOLDEN = Path(__file__).parents[1] / "golden" / "attribution"


@pytest.fixture(scope="module")
def golden() -> jl.Events:
    return jl.read_events(GOLDEN / "events.csv")


def test_several_lookbacks_in_one_call_equal_single_runs(golden: jl.Events) -> None:
    both = attribution(golden, lookback=["1d", "7d"], models=["linear", "markov"])
    assert both.params["lookback"] == ["1d", "7d"]
    for window in ("1d", "7d"):
        alone = attribution(golden, lookback=window, models=["linear", "markov"]).table
        part = both.table[both.table.lookback == window].drop(columns="lookback")
        pd.testing.assert_frame_equal(part.reset_index(drop=True), alone)
    assert set(both.extras["paths"].lookback) == {"1d", "7d"}
    assert both.extras["checks"].ok.all()
    assert both.sql.count("-- lookback") == 2


def test_several_markov_orders_in_one_call() -> None:
    # a > c always converts, b > c never: order 1 splits a/b evenly, order 2 sees the difference
    paths = pd.DataFrame({"path": ["a > c", "b > c"], "conversions": [2, 0], "nulls": [0, 2]})
    result = attribution(paths, models=["markov"], order=[1, 2])
    table = result.table.set_index(["model", "channel"]).conversions
    assert table["markov_1"].to_dict() == pytest.approx({"a": 0.5, "b": 0.5, "c": 1.0})
    assert table["markov_2"].to_dict() == pytest.approx({"a": 1.0, "b": 0.0, "c": 1.0})
    effects = result.extras["removal_effects"]
    assert effects[effects.order == 2].set_index("channel").removal_effect.to_dict() == (
        pytest.approx({"a": 1.0, "b": 0.0, "c": 1.0})
    )


@pytest.mark.slow
def test_bootstrap_intervals_match_the_binomial_and_repeat_with_the_seed() -> None:
    # 30 journeys end in a, 10 in b: a's last-touch share is X/40 with X ~ Binomial(40, 0.75),
    # sd = sqrt(0.75 x 0.25 / 40) = 0.0685, so its 95% interval is about 0.75 -/+ 0.134
    paths = pd.DataFrame({"path": ["a", "b"], "conversions": [30, 10], "nulls": [0, 0]})
    result = attribution(paths, models=["last_touch", "markov"], bootstrap=400, seed=3)
    row = result.table.set_index(["model", "channel"]).loc[("last_touch", "a")]
    sd = math.sqrt(0.75 * 0.25 / 40)
    assert row.conversion_share_low == pytest.approx(0.75 - 1.96 * sd, abs=0.03)
    assert row.conversion_share_high == pytest.approx(0.75 + 1.96 * sd, abs=0.03)
    again = attribution(paths, models=["last_touch", "markov"], bootstrap=400, seed=3)
    pd.testing.assert_frame_equal(result.table, again.table)
    other = attribution(paths, models=["last_touch", "markov"], bootstrap=400, seed=4)
    assert not other.table.equals(result.table)


def test_bootstrap_of_a_single_path_has_no_spread() -> None:
    paths = pd.DataFrame({"path": ["a > b"], "conversions": [5], "nulls": [5]})
    table = attribution(paths, models=["linear", "shapley"], bootstrap=20).table
    assert table.conversion_share_low.tolist() == [0.5] * 4
    assert table.conversion_share_high.tolist() == [0.5] * 4


def test_cost_cpa_and_roas_from_workspace_spend() -> None:
    ws = jl.open()
    ws.load_events(GOLDEN / "events.csv")
    ws.load_spend(GOLDEN / "spend.csv")
    result = attribution(ws.events(), lookback="7d", models=["last_non_direct", "linear"])
    table = result.table.set_index(["model", "channel"])
    # tests/golden/attribution/README.md: Email costs 10, Paid Search 90, Display 40
    email = table.loc[("last_non_direct", "Email")]
    assert (email.conversions, email.revenue, email.cost) == (2.0, 200.0, 10.0)
    assert (email.cpa, email.roas) == (5.0, 20.0)
    search = table.loc[("last_non_direct", "Paid Search")]
    assert search.cost == 90.0 and search.roas == 0.0 and math.isnan(search.cpa)
    # linear: Email 1/3 of purchase 1 (40) + purchase 2 (80): CPA 10 / (4/3), ROAS 120 / 10
    linear = table.loc[("linear", "Email")]
    assert linear.cpa == pytest.approx(7.5) and linear.roas == pytest.approx(12.0)
    assert result.extras["spend"].set_index("channel").cost.to_dict() == {
        "Display": 40.0,
        "Email": 10.0,
        "Paid Search": 90.0,
    }
    ws.close()


def test_no_spend_table_no_cost_columns(golden: jl.Events) -> None:
    assert "cost" not in attribution(golden, models=["linear"]).table.columns


def test_charts_draw_from_the_result(golden: jl.Events) -> None:
    from journeylib.display.charts.attribution import removal_effects_chart, transition_chart

    result = attribution(golden, lookback="7d", models=["linear", "markov"])
    spec = result.chart().to_dict()
    assert [layer["encoding"]["y"]["field"] for layer in spec["layer"]] == ["channel", "channel"]
    assert len(spec["datasets"][spec["data"]["name"]]) == len(result.table)
    effects = removal_effects_chart(result).to_dict()
    assert {r["channel"] for r in effects["datasets"][effects["data"]["name"]]} == {
        "(direct)",
        "Direct",
        "Email",
        "Organic Search",
        "Paid Search",
        "Paid Social",
    }
    assert transition_chart(result).to_dict()["mark"]["type"] == "rect"
