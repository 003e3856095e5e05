"""Drivers against a brute-force oracle, hand-worked odds ratios and the sample's planted story."""

from __future__ import annotations

import pandas as pd
import pytest
from oracles import BASE
from oracles import events as canonical
from oracles.drivers import oracle, random_log
from scipy import stats

import journeylib as jl
from journeylib import datasets
from journeylib.analyses.drivers import drivers
from journeylib.model.statistics import odds_ratio


@pytest.mark.parametrize("seed", range(5))
def test_feature_counts_equal_the_oracle(seed: int) -> None:
    frame = random_log(seed)
    result = drivers(canonical(frame), ["a", "b"], "1h", columns=["channel"], min_support=1)
    every = result.extras["all"]
    ours = {
        (kind, value): (a, b)
        for kind, value, a, b in every[
            ["kind", "value", "converters_with", "droppers_with"]
        ].itertuples(index=False)
    }
    assert ours == oracle(frame)


def test_odds_ratio_and_fisher_by_hand() -> None:
    # 30 converters, 30 droppers; the feature: 20 of the converters, 10 of the droppers.
    # OR = (20 x 20) / (10 x 10) = 4; se = sqrt(1/20 + 1/10 + 1/10 + 1/20) = sqrt(0.3)
    ratio, low, high = odds_ratio(20, 10, 10, 20)
    assert ratio == 4.0
    assert low == pytest.approx(4 * 2.718281828459045 ** (-1.959963984540054 * 0.3**0.5))
    assert high == pytest.approx(4 * 2.718281828459045 ** (1.959963984540054 * 0.3**0.5))
    # a zero cell: 0.5 added everywhere -> (10.5 x 10.5) / (0.5 x 0.5) = 441
    assert odds_ratio(10, 0, 0, 10)[0] == 441.0
    rows = []
    for i in range(60):  # u0-u29 buy; reviews: u0-u19 (converters) and u30-u39 (droppers)
        rows.append((f"u{i}", "view", 0))
        if i < 20 or 30 <= i < 40:
            rows.append((f"u{i}", "reviews", 1))
        if i < 30:
            rows.append((f"u{i}", "buy", 2))
    rows.append(("zz", "other", 90 * 24 * 60))  # the data runs on: every window has closed
    frame = pd.DataFrame(
        {
            "event_id": [f"e{i:03}" for i in range(len(rows))],
            "user_id": [u for u, _, _ in rows],
            "event_time": [BASE + pd.Timedelta(minutes=m) for _, _, m in rows],
            "event_name": [n for _, n, _ in rows],
            "channel": None,
        }
    )
    row = drivers(canonical(frame), ["view", "buy"], "1d", min_support=5).extras["all"].iloc[0]
    assert (row.feature, row.converters_with, row.droppers_with) == ("reviews", 20, 10)
    assert row.odds_ratio == 4.0
    assert row.p_value == pytest.approx(stats.fisher_exact([[20, 10], [10, 20]]).pvalue)
    assert row.conversion_with == pytest.approx(20 / 30)


def test_sample_mobile_checkouts_drop_more() -> None:
    ws = jl.open()
    datasets.load_sample(ws)
    result = drivers(
        ws.events(), ["begin_checkout", "add_payment_info"], "1d", columns=["device.category"]
    )
    by = result.table.set_index("feature")
    assert by.direction["device.category = mobile"] == "less likely"
    assert by.direction["device.category = desktop"] == "more likely"
    assert "<svg" in result.chart_svg()


def test_bad_parameters() -> None:
    ev = canonical(random_log(0))
    with pytest.raises(jl.ParameterError, match="step"):
        drivers(ev, ["a", "b"], step=3)
    with pytest.raises(jl.ParameterError, match="Did you mean 'b'"):
        drivers(ev, ["a", "bb"])
