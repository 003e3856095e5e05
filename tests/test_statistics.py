"""The hand-written statistics against scipy, an independent implementation of each.

The package keeps its own small formulas (no scipy at import); scipy checks them
here on many tables, beside the hand-worked doctests.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from journeylib.model.statistics import kaplan_meier, odds_ratio, two_proportion_p, wilson

counts = st.integers(1, 400)


@given(counts, counts, counts, counts)
def test_odds_ratio_and_woolf_interval_equal_scipys_sample_odds_ratio(a, b, c, d):
    ratio, low, high = odds_ratio(a, b, c, d)
    expected = stats.contingency.odds_ratio([[a, b], [c, d]], kind="sample")
    interval = expected.confidence_interval(0.95)
    assert ratio == pytest.approx(expected.statistic, rel=1e-12)
    assert (low, high) == pytest.approx((interval.low, interval.high), rel=1e-9)


def test_odds_ratio_with_an_empty_cell_adds_a_half_to_every_cell():
    # scipy takes whole counts only, so by hand: [[12.5, 0.5], [5.5, 9.5]],
    # OR = 12.5 x 9.5 / (0.5 x 5.5) = 43.18; se = sqrt(1/12.5 + 1/0.5 + 1/5.5 + 1/9.5) = 1.5385
    ratio, low, high = odds_ratio(12, 0, 5, 9)
    se = (1 / 12.5 + 1 / 0.5 + 1 / 5.5 + 1 / 9.5) ** 0.5
    assert ratio == pytest.approx(118.75 / 2.75)
    assert (low, high) == pytest.approx(
        (ratio * np.exp(-1.959964 * se), ratio * np.exp(1.959964 * se))
    )


@given(st.integers(0, 300), st.integers(1, 300), st.integers(0, 300), st.integers(1, 300))
def test_two_proportion_p_equals_the_uncorrected_chi_square_of_the_table(x1, n1, x2, n2):
    # the pooled z-test is the 2x2 chi-square test without continuity correction: z^2 = chi^2
    x1, x2 = min(x1, n1), min(x2, n2)
    table = np.array([[x1, n1 - x1], [x2, n2 - x2]])
    if (table.sum(axis=0) == 0).any():  # one outcome only: no test (ours says p = 1)
        assert two_proportion_p(x1, n1, x2, n2) == 1.0
        return
    expected = stats.chi2_contingency(table, correction=False).pvalue
    assert two_proportion_p(x1, n1, x2, n2) == pytest.approx(expected, rel=1e-9, abs=1e-15)


@given(st.integers(0, 500), st.integers(1, 500))
def test_wilson_equals_scipys_binomtest_interval(successes, trials):
    successes = min(successes, trials)
    low, high = wilson(successes, trials)
    interval = stats.binomtest(successes, trials).proportion_ci(method="wilson")
    assert (low, high) == pytest.approx((interval.low, interval.high), abs=1e-12)


@given(
    st.lists(
        st.tuples(st.integers(1, 20), st.booleans(), st.integers(1, 4)), min_size=1, max_size=30
    )
)
def test_kaplan_meier_equals_scipys_ecdf_of_censored_data(rows):
    frame = pd.DataFrame(rows, columns=["seconds", "converted_flag", "units"])
    frame["converted_flag"] = frame.converted_flag.astype(int)
    ours = kaplan_meier(frame)
    times = np.repeat(frame.seconds.to_numpy(), frame.units.to_numpy())
    flags = np.repeat(frame.converted_flag.to_numpy(), frame.units.to_numpy()).astype(bool)
    if not flags.any():  # nobody converted: every time is censored, survival stays 1
        assert (ours.survival == 1.0).all()
        return
    data = stats.CensoredData(uncensored=times[flags], right=times[~flags])
    survival = stats.ecdf(data).sf.evaluate(ours.seconds.to_numpy())
    assert ours.survival.to_numpy() == pytest.approx(survival, abs=1e-12)
