"""Time to convert: a hand-worked Kaplan-Meier case with censoring and units in progress."""

from __future__ import annotations

import math

import pytest

import journeylib as jl
from journeylib.analyses.funnel_stats import time_to_convert
from journeylib.model.statistics import kaplan_meier

LOG = """user_id,event_name,event_time
u1,view,2024-01-01T00:00:00Z
u1,buy,2024-01-01T01:00:00Z
u2,view,2024-01-01T00:00:00Z
u2,buy,2024-01-01T02:00:00Z
u3,view,2024-01-01T00:00:00Z
u3,buy,2024-01-02T00:00:00.000001Z
u4,view,2024-01-01T00:00:00Z
u5,view,2024-01-04T00:00:00Z
u6,other,2024-01-04T06:00:00Z
u7,view,2024-01-01T00:00:00Z
u7,buy,2024-01-01T01:00:00Z
"""


@pytest.fixture(scope="module")
def result(tmp_path_factory) -> jl.Result:
    path = tmp_path_factory.mktemp("ttc") / "events.csv"
    path.write_text(LOG)
    ws = jl.open()
    ws.load_events(path)
    return time_to_convert(ws.events(), ["view", "buy"], within="1d")


def test_hand_worked_kaplan_meier_with_censoring_and_in_progress(result):
    # converters: u1, u7 at 3600 s; u2 at 7200 s. u3 buys 1 microsecond after its 1-day
    # window closes and u4 never buys: both censored at the window close, 86400 s.
    # u5 enters 6 h before the data ends (u6's event at Jan 4 06:00): censored at 21600 s,
    # in progress. u6 never enters.
    table = result.table
    assert table[["seconds", "converted", "censored", "at_risk"]].values.tolist() == [
        [3600, 2, 0, 6],  # at risk: u1 u2 u3 u4 u5 u7
        [7200, 1, 0, 4],
        [21600, 0, 1, 3],
        [86400, 0, 2, 2],
    ]
    # S(3600) = 1 - 2/6 = 2/3; S(7200) = 2/3 * (1 - 1/4) = 1/2; censoring leaves it at 1/2
    assert table.survival.tolist() == pytest.approx([2 / 3, 1 / 2, 1 / 2, 1 / 2])
    assert table.converted_share.tolist() == pytest.approx([1 / 3, 1 / 2, 1 / 2, 1 / 2])
    summary = result.extras["summary"].iloc[0]
    assert (summary.units, summary.converted, summary.censored, summary.in_progress) == (6, 3, 3, 1)
    assert summary.median_seconds == 3600  # median of 3600, 3600, 7200
    assert summary.mean_seconds == 4800  # (3600 + 3600 + 7200) / 3
    assert result.params["to_step"] == 2
    assert "select" in str(result.sql).lower()
    assert result.chart().to_dict()["mark"]["type"] == "line"


def test_kaplan_meier_without_censoring_is_the_empirical_distribution():
    import pandas as pd

    rows = pd.DataFrame({"seconds": [5, 1, 3, 3], "converted_flag": [1] * 4, "units": [1, 2, 1, 1]})
    # 5 converters at 1, 1, 3, 3, 5 seconds: shares converted by each time 2/5, 4/5, 5/5
    assert kaplan_meier(rows).converted_share.tolist() == pytest.approx([0.4, 0.8, 1.0])


def test_steps_out_of_range_are_a_parameter_error(result):
    with pytest.raises(jl.ParameterError, match="to_step"):
        time_to_convert(None, ["view", "buy"], from_step=2)  # type: ignore[arg-type]
    assert not math.isnan(result.extras["summary"].iloc[0].mean_seconds)


@pytest.mark.parametrize("window_from", ["entry", "previous_step"])
def test_counts_agree_with_the_funnel_on_the_sample_shop(window_from):
    from journeylib.loading.datasets import sample_or

    ev = sample_or("").events()
    steps = ["session_start", "view_item", "add_to_cart", "purchase"]
    funnel = jl.funnel(ev, steps, within="3d", window_from=window_from).table
    r = time_to_convert(ev, steps, within="3d", from_step=2, to_step=4, window_from=window_from)
    summary = r.extras["summary"].iloc[0]
    # units that reached view_item; of them, those that reached purchase; the rest still
    # inside their window are in progress before add_to_cart or before purchase
    assert summary.units == funnel.users.iloc[1]
    assert summary.converted == funnel.users.iloc[3]
    assert summary.in_progress == funnel.in_progress.iloc[2:4].sum()
    assert r.table.at_risk.iloc[0] == summary.units
    assert r.table.converted.sum() == summary.converted
    whole = time_to_convert(ev, steps, within="3d", window_from=window_from).extras["summary"]
    assert whole.median_seconds.iloc[0] == pytest.approx(funnel.median_seconds_from_entry.iloc[3])
    assert whole.mean_seconds.iloc[0] == pytest.approx(funnel.mean_seconds_from_entry.iloc[3])


def test_trended_funnel_by_entry_day_hand_worked(tmp_path):
    from journeylib.analyses.funnel_stats import trended_funnel

    path = tmp_path / "events.csv"
    path.write_text(LOG)
    ev = jl.read_events(path)
    table = trended_funnel(ev, ["view", "buy"], within="1d", every="day").table
    # Jan 1 entries: u1 u2 u3 u4 u7; converted u1 u2 u7 (u3's buy is 1 us late) -> 3/5.
    # Jan 4 entry: u5, window open at the data end (Jan 4 06:00) -> in progress, 0/1.
    assert [str(p)[:10] for p in table.period] == ["2024-01-01", "2024-01-04"]
    assert table[["entered", "converted", "in_progress"]].values.tolist() == [[5, 3, 0], [1, 0, 1]]
    assert table.conversion_rate.tolist() == pytest.approx([0.6, 0.0])
    # Wilson 95% for 3/5: centre (0.6 + 1.9208/5) / (1 + 3.8415/5) = 0.5566, half-width
    # 1.96 * sqrt(0.6 * 0.4 / 5 + 3.8415 / 100) / 1.7683 = 0.3258 -> [0.2307, 0.8824]
    assert table.conversion_low.iloc[0] == pytest.approx(0.2307, abs=1e-4)
    assert table.conversion_high.iloc[0] == pytest.approx(0.8824, abs=1e-4)
    with pytest.raises(jl.ParameterError, match="every"):
        trended_funnel(ev, ["view", "buy"], every="fortnight")


def test_compare_funnels_tests_each_step_against_the_first_segment():
    from scipy import stats

    from journeylib.loading.datasets import sample_or

    ev = sample_or("").events()
    steps = ["begin_checkout", "add_payment_info"]
    mobile = ev.where(ev.prop("device.category") == "mobile")
    desktop = ev.where(ev.prop("device.category") == "desktop")
    result = jl.compare_funnels({"desktop": desktop, "mobile": mobile}, steps, "1d")
    table = result.table.set_index(["segment", "step"])
    # each segment's counts are those of its own funnel
    for label, events in (("desktop", desktop), ("mobile", mobile)):
        users = jl.funnel(events, steps, "1d").table.users.tolist()
        assert table.loc[label].users.tolist() == users
    d, m = table.loc["desktop"].users.tolist(), table.loc["mobile"].users.tolist()
    # the pooled two-proportion z-test, worked out with scipy's normal distribution
    pooled = (d[1] + m[1]) / (d[0] + m[0])
    z = (m[1] / m[0] - d[1] / d[0]) / (pooled * (1 - pooled) * (1 / d[0] + 1 / m[0])) ** 0.5
    expected = 2 * stats.norm.sf(abs(z))
    row = table.loc[("mobile", "add_payment_info")]
    assert row.p_value == pytest.approx(expected, rel=1e-9)
    assert row.difference == pytest.approx(m[1] / m[0] - d[1] / d[0])
    assert row.difference < -0.2 and row.p_value < 1e-6  # story 1: mobile checkouts stall
    with pytest.raises(jl.ParameterError, match="two or more"):
        jl.compare_funnels({"only": ev}, steps)
