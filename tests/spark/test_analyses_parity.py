"""Every public analysis gives the same table on local Spark as on DuckDB (ADR 0003).

One generated event set (users with several sessions, channels on session
starts, revenue on purchases, ties in time, millisecond timestamps, one
anonymous event) is mirrored once per module on both engines; each case runs
one analysis on both handles and compares the result tables and their extras,
sorted, floats with ``pytest.approx``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

import journeylib as jl

pytestmark = pytest.mark.spark

STAGES = jl.Stages(
    {"aware": ["home"], "consider": ["view", "cart"], "buy": ["buy"], "loyal": ["signup"]}
)
#: Spark's transition times are millisecond-precise (no microsecond extract in Ibis' PySpark)
MILLI = 1e-3


def make_events(seed: int = 7, users: int = 30) -> pd.DataFrame:
    """About 250 events: 30 users, 1-3 sessions each, ~15% of gaps zero (ties in time)."""
    rng = np.random.default_rng(seed)
    names = ["home", "view", "cart", "buy", "signup", "support"]
    weights = [0.25, 0.3, 0.15, 0.1, 0.1, 0.1]
    channels = ["Email", "Direct", "Paid Search", "Organic", None]
    base = pd.Timestamp("2024-01-01T00:00:00Z")
    rows = []
    for u in range(users):
        user = f"u{u:02d}"
        t = base + pd.Timedelta(days=int(rng.integers(0, 21)), hours=int(rng.integers(0, 24)))
        for s in range(int(rng.integers(1, 4))):
            channel = channels[int(rng.integers(0, len(channels)))]
            for k in range(int(rng.integers(2, 7))):
                name = names[int(rng.choice(len(names), p=weights))] if k else "home"
                gap = 0 if rng.random() < 0.15 else int(rng.integers(1, 3600))
                millis = int(rng.integers(0, 1000)) if rng.random() < 0.3 else 0
                t = t + pd.Timedelta(seconds=gap, milliseconds=millis)
                rows.append(
                    {
                        "event_id": f"e{len(rows):04d}",
                        "user_id": user,
                        "event_time": t,
                        "event_name": name,
                        "session_id": f"{user}-s{s}",
                        "channel": channel if k == 0 else None,
                        "revenue": round(float(rng.uniform(5, 200)), 2) if name == "buy" else None,
                    }
                )
            t = t + pd.Timedelta(days=int(rng.integers(0, 10)), hours=int(rng.integers(1, 20)))
    rows.append(
        {
            "event_id": f"e{len(rows):04d}",
            "user_id": None,
            "event_time": base + pd.Timedelta(days=3),
            "event_name": "view",
            "session_id": "anon-s0",
            "channel": "Direct",
            "revenue": None,
        }
    )
    frame = pd.DataFrame(rows)
    frame["event_time"] = pd.to_datetime(frame.event_time, utc=True)
    return frame


FRAME = make_events()


def _utc(pair: tuple[jl.Events, jl.Events]) -> tuple[jl.Events, jl.Events]:
    duck, spark = pair
    duck.engine.ibis.raw_sql("SET TimeZone = 'UTC'")  # Spark's session is UTC too
    return duck, spark


@pytest.fixture(scope="module")
def both(on_both) -> tuple[jl.Events, jl.Events]:
    """The generated events (millisecond times) as (DuckDB, Spark) handles, once per module."""
    return _utc(on_both(FRAME))


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    keys = [c for c in frame.columns if not pd.api.types.is_float_dtype(frame[c])]
    return frame.sort_values(keys, ignore_index=True, na_position="last") if keys else frame


def _values(column: pd.Series) -> list[object]:
    return column.astype(object).where(column.notna(), None).tolist()


def assert_same(ours: pd.DataFrame, theirs: pd.DataFrame, tolerance: dict[str, float]) -> None:
    """Equal columns and rows after sorting; floats approximately (``tolerance`` absolute)."""
    assert list(theirs.columns) == list(ours.columns)
    assert len(theirs) == len(ours)
    ours, theirs = _sorted(ours), _sorted(theirs)
    for column in ours.columns:
        if pd.api.types.is_float_dtype(ours[column]):
            expected = pytest.approx(
                ours[column].tolist(), rel=1e-9, abs=tolerance.get(column, 1e-9), nan_ok=True
            )
            assert theirs[column].astype("float64").tolist() == expected, column
        else:
            assert _values(theirs[column]) == _values(ours[column]), column


def check(
    pair: tuple[jl.Events, jl.Events],
    analysis: Callable[[jl.Events], jl.Result],
    tolerance: dict[str, float] | None = None,
) -> jl.Result:
    duck, spark = pair
    ours, theirs = analysis(duck), analysis(spark)
    assert len(ours.table) > 0
    assert_same(ours.table, theirs.table, tolerance or {})
    assert set(theirs.extras) == set(ours.extras)
    for name, extra in ours.extras.items():
        assert_same(extra, theirs.extras[name], tolerance or {})
    return ours


CASES: dict[str, Callable[[jl.Events], jl.Result]] = {
    "paths_start_conversion": lambda ev: jl.paths(ev, start="home", steps=3, conversion="buy"),
    "paths_end": lambda ev: jl.paths(ev, end="buy", steps=3),
    "paths_start_end_session": lambda ev: jl.paths(
        ev, start="home", end="buy", steps=3, unit="session", conversion="buy", top=5
    ),
    "next_steps": lambda ev: jl.next_steps(ev, "view", steps=3, top=3),
    "previous_steps": lambda ev: jl.previous_steps(ev, "buy", steps=3, top=3),
    "step_matrix_anchor_before": lambda ev: jl.step_matrix(ev, anchor="cart", steps=3, before=2),
    "step_matrix_plain": lambda ev: jl.step_matrix(ev, steps=4, collapse_repeats=False),
    "retention_n_day_day": lambda ev: jl.retention(ev, period="day", periods=5),
    "retention_unbounded_rolling_week": lambda ev: jl.retention(
        ev, start="home", returning=["buy", "view"], kind="unbounded", periods=3, rolling=True
    ),
    "retention_recurring_week": lambda ev: jl.retention(
        ev, period="week", periods=3, cohort="recurring"
    ),
    "retention_by_channel": lambda ev: jl.retention(
        ev, period="week", kind="unbounded", periods=3, by="channel", revenue=True
    ),
    "drivers": lambda ev: jl.drivers(
        ev, ["view", "buy"], "1d", columns=["channel"], min_support=1, alpha=1.0
    ),
    "predict_next": lambda ev: jl.predict_next(ev, order=2, min_count=1, holdout=0.3),
    "trended_funnel": lambda ev: jl.trended_funnel(
        ev, ["home", "view", "buy"], within="3d", every="week"
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_analysis_agrees(both, case: str) -> None:
    check(both, CASES[case])


def test_transitions_agree(both) -> None:
    result = check(
        both,
        lambda ev: jl.transitions(ev, endpoints=True),
        {"median_seconds": MILLI, "p95_seconds": MILLI},
    )
    assert result.table.median_seconds.max() > 0


# hours and seconds come from durations.elapsed_seconds: equal on millisecond times too


def test_journey_map_agrees(both) -> None:
    check(both, lambda ev: jl.journey_map(ev, STAGES, key_events=["support", "home"]))


def test_stage_of_agrees(both) -> None:
    check(both, lambda ev: jl.stage_of(ev, STAGES))


def test_time_to_convert_agrees(both) -> None:
    check(both, lambda ev: jl.time_to_convert(ev, ["view", "cart", "buy"], "2d"))
