"""journeylib's attribution against the ChannelAttribution package (GPL-3, a dev-only oracle).

Skipped when the package is not installed (``pip install channelattribution
matplotlib``; it builds from source). Its heuristic models are deterministic and
must agree to 1e-9. Its Markov model simulates walks through the estimated
chain, so ours (exact) must fall within its simulation noise: at 1e7 walks the
relative noise measured here was under 0.25%, and 1% is allowed.

ChannelAttribution stops each simulated walk after ``max_step`` steps, by
default the longest observed path, which biases credit toward channels on
short paths (measured: up to 4.7% on these paths at order 1); the absorbing
chain has no such cap, so the comparison runs it with ``max_step=100``.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pandas as pd
import pytest

from journeylib.analyses.attribution import attribution

with contextlib.redirect_stdout(io.StringIO()):  # it prints a banner on import
    ca = pytest.importorskip("ChannelAttribution")


def sample_paths(seed: int, channels: str = "abcde") -> pd.DataFrame:
    """300 random journeys over five channels with repeats, conversions, nulls and value."""
    rng = np.random.default_rng(seed)
    rows: dict[str, list[float]] = {}
    for _ in range(300):
        n = int(rng.integers(1, 6))
        path = " > ".join(rng.choice(list(channels), size=n, p=[0.3, 0.25, 0.2, 0.15, 0.1]))
        conversions = int(rng.poisson(3 if "a" in path else 1))
        totals = rows.setdefault(path, [0, 0, 0.0])
        totals[0] += conversions
        totals[1] += int(rng.poisson(6))
        totals[2] += conversions * float(rng.uniform(10, 100))
    frame = pd.DataFrame(
        [(path, *totals) for path, totals in rows.items()],
        columns=["path", "conversions", "nulls", "value"],
    )
    return frame[frame.conversions + frame.nulls > 0].reset_index(drop=True)


def quiet(function, *args, **kwargs) -> pd.DataFrame:
    with contextlib.redirect_stdout(io.StringIO()):
        return function(*args, **kwargs)


@pytest.mark.parametrize("seed", [1, 2])
def test_heuristics_equal_channelattribution_heuristic_models(seed: int) -> None:
    paths = sample_paths(seed)
    theirs = quiet(
        ca.heuristic_models, paths, "path", "conversions", var_value="value", flg_pro=False
    ).set_index("channel_name")
    ours = attribution(paths, models=["first_touch", "last_touch", "linear"]).table
    names = {"first_touch": "first_touch", "last_touch": "last_touch", "linear": "linear_touch"}
    for model, name in names.items():
        mine = ours[ours.model == model].set_index("channel")
        for channel in theirs.index:
            assert mine.conversions[channel] == pytest.approx(
                theirs[f"{name}_conversions"][channel], abs=1e-9
            )
            assert mine.revenue[channel] == pytest.approx(
                theirs[f"{name}_value"][channel], abs=1e-9
            )


@pytest.mark.slow
@pytest.mark.parametrize("order", [1, 2, 3])
def test_markov_within_channelattribution_simulation_noise(order: int) -> None:
    paths = sample_paths(3)
    theirs = quiet(
        ca.markov_model,
        paths,
        "path",
        "conversions",
        var_value="value",
        var_null="nulls",
        order=order,
        nsim_start=1e7,
        max_step=100,
        verbose=False,
        flg_pro=False,
    ).set_index("channel_name")
    ours = attribution(paths, models=["markov"], order=order).table.set_index("channel")
    for channel in theirs.index:
        assert ours.conversions[channel] == pytest.approx(
            theirs.total_conversions[channel], rel=0.01
        )
        assert ours.revenue[channel] == pytest.approx(
            theirs.total_conversion_value[channel], rel=0.01
        )
