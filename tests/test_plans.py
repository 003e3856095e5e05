"""Plans (issue #28 step 3): every analysis with more than one plan gives the same table
under each of them on the oracle logs, every result names the plan that ran, and the
option forces one or says why it cannot.

A plan that does not cover the inputs (retention's DuckDB plan needs first-time calendar
cohorts of any event, a UTC session and a span it can pack) leaves them to the portable
plan under ``auto``; forced, it is a ParameterError.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime

import pandas as pd
import pytest
from oracles.retention import BASE, DAY, row_events, scattered_log

import journeylib as jl
from journeylib.display.registry import ANALYSES
from journeylib.model.cohorts import retention_grid


def retention_calls() -> list[tuple[str, Callable[[jl.Events], jl.Result]]]:
    """Every period and kind, with horizons shorter and longer than the logs."""
    combos = itertools.product(["day", "week", "month"], ["n_day", "unbounded"])
    return [
        (
            f"{period}-{kind}-{periods}",
            lambda ev, p=period, k=kind, n=periods: jl.retention(ev, period=p, kind=k, periods=n),
        )
        for (period, kind), periods in zip(combos, itertools.cycle([70, 2, 5]), strict=False)
    ]


#: for each analysis with several plans, calls its native plans must take
CALLS: dict[str, list[tuple[str, Callable[[jl.Events], jl.Result]]]] = {
    "retention": retention_calls(),
}


def test_every_analysis_with_several_plans_is_compared_here() -> None:
    several = {name for name, declared in ANALYSES.items() if len(declared.plans) > 1}
    assert several == set(CALLS)
    assert all(declared.plans[-1] == "portable" for declared in ANALYSES.values())


def under(plan: str, call: Callable[[jl.Events], jl.Result], ev: jl.Events) -> jl.Result:
    with jl.option_context(plan=plan):
        result = call(ev)
    assert result.params["plan"] == plan
    return result


#: (seed, first day, days of first events, periods the DuckDB plan packs)
LOGS = [
    (1, BASE, 50, {"day", "week", "month"}),  # one mask word
    *(
        pytest.param(*case, marks=pytest.mark.slow)
        for case in [
            (2, BASE - 200 * DAY, 150, {"day", "week", "month"}),  # days need several words
            (3, BASE - 600 * DAY, 500, {"week", "month"}),  # weeks: several; days: too many
            (4, datetime(1969, 11, 20, tzinfo=UTC), 80, {"day", "week", "month"}),  # 1970
        ]
    ),
]


@pytest.mark.parametrize(("seed", "start", "days", "packed"), LOGS)
@pytest.mark.parametrize("name", sorted(CALLS))
def test_every_plan_gives_the_portable_plans_table(name, seed, start, days, packed) -> None:
    rows = scattered_log(seed, start, days)
    rows.append(("no_time", None, "A", None, None))  # type: ignore[arg-type]
    ev = row_events(rows)
    for label, call in CALLS[name]:
        portable = under("portable", call, ev)
        auto = call(ev)
        period = label.split("-")[0]
        assert auto.params["plan"] == ("duckdb" if period in packed else "portable"), label
        for plan in ANALYSES[name].plans:
            if plan == auto.params["plan"] or plan == "portable":
                table = under(plan, call, ev).table
                pd.testing.assert_frame_equal(table, portable.table, obj=f"{name} {label} {plan}")


def test_the_duckdb_retention_grid_matches_the_portable_one_but_for_revenue() -> None:
    ev = row_events(scattered_log(4, BASE, 120))
    for period in ("day", "week", "month"):
        plan, grid = retention_grid(ev, period=period, periods=5)
        assert plan == "portable"  # revenue wanted: only the portable plan sums it
        fast_plan, fast_grid = retention_grid(ev, period=period, periods=5, revenue=False)
        assert fast_plan == "duckdb"
        general, fast = ev.engine.run(grid), ev.engine.run(fast_grid)
        assert (fast.revenue == 0.0).all() and general.revenue.sum() > 0
        pd.testing.assert_frame_equal(fast.drop(columns="revenue"), general.drop(columns="revenue"))


def test_inputs_the_native_plan_does_not_cover_take_the_portable_plan_or_refuse_it() -> None:
    # a span of more words than the DuckDB plan packs, then a session outside UTC
    wide = row_events(
        [*scattered_log(5, BASE - 700 * DAY, 100), ("old", BASE - 9000 * DAY, "A", None, None)]
    )
    narrow = row_events(scattered_log(6, BASE, 30))
    narrow.engine.execute("SET TimeZone = 'America/New_York'")
    try:
        for ev in (wide, narrow):
            assert jl.retention(ev, period="day").params["plan"] == "portable"
            with (
                jl.option_context(plan="duckdb"),
                pytest.raises(jl.ParameterError, match="duckdb plan does not cover") as caught,
            ):
                jl.retention(ev, period="day")
            assert caught.value.allowed == ["auto", "portable"]
    finally:
        narrow.engine.execute("SET TimeZone = 'UTC'")
    # a start event, revenue or rolling windows: only the portable plan computes them
    ev = row_events(scattered_log(7, BASE, 30))
    for kwargs in ({"start": "A"}, {"revenue": True}, {"rolling": True}):
        assert jl.retention(ev, period="week", **kwargs).params["plan"] == "portable", kwargs


def test_forcing_a_plan_an_analysis_lacks_is_refused_before_it_runs() -> None:
    ev = row_events(scattered_log(8, BASE, 10))
    with jl.option_context(plan="duckdb"), pytest.raises(jl.ParameterError) as caught:
        jl.funnel(ev, ["A", "B"], "7d")
    assert "funnel has no duckdb plan" in str(caught.value)
    assert caught.value.allowed == ["auto", "portable"]
    assert jl.options.plan == "auto"  # restored after the block, error or not


def test_an_unknown_option_or_plan_name_is_refused() -> None:
    with pytest.raises(jl.ParameterError, match="Allowed values: auto, portable, duckdb"):
        jl.options.plan = "fast"
    with pytest.raises(jl.ParameterError, match=r"'option'.*Allowed values: plan"):
        jl.options.plans = "auto"
    assert jl.options.plan == "auto"
