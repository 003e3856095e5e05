"""The statistics the analyses share, on small counts in Python.

Wilson intervals, the two-proportion z-test, odds ratios with Fisher's exact
test, and Kaplan-Meier curves.

Each is written out here (and checked against scipy in ``tests/test_statistics.py``)
so that ``import journeylib`` does not load scipy.
"""

from __future__ import annotations

import math

import pandas as pd


def wilson(successes: int, trials: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion.

    Examples
    --------
    >>> [round(x, 4) for x in wilson(8, 10)]
    [0.4902, 0.9433]

    None of none and all of all are exact ends, not float noise such as 4e-19:

    >>> wilson(0, 600)[0], wilson(600, 600)[1]
    (0.0, 1.0)
    """
    if trials == 0:
        return (0.0, 0.0)
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = (
        z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    )
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return (low, high)


def odds_ratio(a: int, b: int, c: int, d: int) -> tuple[float, float, float]:
    """Odds ratio of ``[[a, b], [c, d]]`` and its 95% (Woolf) interval; 0.5 added to every cell if one is 0.

    Examples
    --------
    OR = 20 x 20 / (10 x 10) = 4; se(log OR) = sqrt(1/20 + 1/10 + 1/10 + 1/20) = 0.548,
    so the interval is 4 x exp(-/+ 1.96 x 0.548):

    >>> [round(x, 3) for x in odds_ratio(20, 10, 10, 20)]
    [4.0, 1.367, 11.703]
    """
    if min(a, b, c, d) == 0:
        a, b, c, d = (x + 0.5 for x in (a, b, c, d))  # type: ignore[assignment]
    ratio = (a * d) / (b * c)
    spread = 1.959963984540054 * math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    return ratio, math.exp(math.log(ratio) - spread), math.exp(math.log(ratio) + spread)


def kaplan_meier(counts: pd.DataFrame) -> pd.DataFrame:
    """The Kaplan-Meier table from ``seconds``, ``converted_flag``, ``units`` rows.

    At equal times conversions count before censoring (the usual convention).

    Examples
    --------
    >>> rows = pd.DataFrame({"seconds": [10, 20, 20, 30], "converted_flag": [1, 1, 0, 1],
    ...                      "units": [1, 1, 1, 1]})
    >>> kaplan_meier(rows).survival.tolist()  # 3/4, then 3/4 * 2/3, then 0
    [0.75, 0.5, 0.0]
    """
    wide = (
        counts.pivot_table(
            index="seconds", columns="converted_flag", values="units", aggfunc="sum", fill_value=0
        )
        .reindex(columns=[1, 0], fill_value=0)
        .sort_index()
    )
    converted = wide[1].astype("int64").to_numpy()
    censored = wide[0].astype("int64").to_numpy()
    gone = converted + censored
    at_risk = gone[::-1].cumsum()[::-1]
    survival = (1 - converted / at_risk).cumprod()
    return pd.DataFrame(
        {
            "seconds": wide.index.astype("float64"),
            "converted": converted,
            "censored": censored,
            "at_risk": at_risk,
            "survival": survival,
            "converted_share": 1 - survival,
        }
    )


def two_proportion_p(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided p-value of the pooled two-proportion z-test of x1/n1 against x2/n2.

    Examples
    --------
    pooled p = 20/40 = 0.5, se = sqrt(0.5 x 0.5 x (1/20 + 1/20)) = 0.1581,
    z = (0.75 - 0.25) / 0.1581 = 3.162, two-sided p = 2 x (1 - Phi(3.162)):

    >>> round(two_proportion_p(15, 20, 5, 20), 4)
    0.0016
    """
    if min(n1, n2) == 0:
        return math.nan
    pooled = (x1 + x2) / (n1 + n2)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if spread == 0:
        return 1.0
    z = (x1 / n1 - x2 / n2) / spread
    return math.erfc(abs(z) / math.sqrt(2))
