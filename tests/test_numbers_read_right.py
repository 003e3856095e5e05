"""Issue #26 step 4: numbers that read right, each as the analyst found it."""

from __future__ import annotations

import random
import warnings
from pathlib import Path

import pandas as pd
import pytest

import journeylib as jl
from journeylib.core.errors import ParameterError
from journeylib.model.statistics import wilson


def load(
    tmp_path: Path, rows: list[str], header: str = "user_id,event_name,event_time"
) -> jl.Events:
    path = tmp_path / "e.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    ws = jl.open()
    ws.load_events(path)
    return ws.events()


@pytest.mark.parametrize("trials", [1, 7, 13, 31, 599, 600, 3000])
def test_wilsons_ends_are_exact(trials: int) -> None:
    # 4.3e-19 and 0.9999999999999999 were float noise in the formula; scipy agrees
    # everywhere else (tests/test_statistics.py)
    assert wilson(0, trials)[0] == 0.0 and wilson(trials, trials)[1] == 1.0


def test_a_strict_funnel_nobody_finishes_prints_zeros_not_float_noise(tmp_path: Path) -> None:
    # 600 people land then browse: nobody lands and buys with nothing between, as strict asks
    rows = []
    for i in range(600):
        rows += [f"u{i},landing,2024-01-01T10:00:00Z", f"u{i},browse,2024-01-01T10:01:00Z"]
        if i % 2:
            rows.append(f"u{i},buy,2024-01-01T10:02:00Z")
    table = jl.funnel(load(tmp_path, rows), ["landing", "buy"], "1d", mode="strict").table
    assert table.users.tolist() == [600, 0]
    numbers = table.select_dtypes("number").to_numpy().ravel()
    assert not ((numbers != 0) & (abs(numbers) < 1e-9)).any()  # no 1.084202e-19
    assert table.conversion_low.tolist()[1] == 0.0
    assert "e-1" not in table.to_string()


def test_to_pandas_returns_every_event_and_warns_when_a_limit_cuts(tmp_path: Path) -> None:
    rows = [
        f"u{i % 600},e{i % 7},2024-01-01T{i // 3600 % 24:02}:{i // 60 % 60:02}:{i % 60:02}Z"
        for i in range(31_076 // 2)
    ]
    ev = load(tmp_path, rows)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        frame = ev.to_pandas()  # all of them, nothing said
    assert len(frame) == len(rows) == ev.count()
    assert frame.event_time.is_monotonic_increasing
    with pytest.warns(UserWarning, match="the first 10,000 of 15,538 events in scope"):
        assert len(ev.to_pandas(limit=10_000)) == 10_000
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        assert len(ev.to_pandas(limit=len(rows))) == len(rows)  # nothing cut, nothing said
    with pytest.raises(ParameterError, match="limit"):
        ev.to_pandas(limit=0)


def test_a_session_funnel_counts_sessions_in_a_sessions_column(tmp_path: Path) -> None:
    # a: two sessions, one converting; b: one session, converting
    rows = [
        "a,s1,view,2024-01-01T10:00:00Z",
        "a,s1,buy,2024-01-01T10:05:00Z",
        "a,s2,view,2024-01-02T10:00:00Z",
        "b,s3,view,2024-01-01T11:00:00Z",
        "b,s3,buy,2024-01-01T11:30:00Z",
    ]
    ev = load(tmp_path, rows, header="user_id,session_id,event_name,event_time")
    sessions = jl.funnel(ev, ["view", "buy"], "1d", unit="session").table
    assert "users" not in sessions.columns
    assert sessions.sessions.tolist() == [3, 2]
    assert jl.funnel(ev, ["view", "buy"], "1d").table.users.tolist() == [2, 2]


def test_the_journey_map_says_when_a_median_is_a_fixed_delay_not_a_cap(tmp_path: Path) -> None:
    rng = random.Random(7)
    base = pd.Timestamp("2024-01-01T10:00:00Z")
    rows = []
    for i in range(40):  # each buys some hours after viewing; a survey comes exactly 7 days later
        viewed = base + pd.Timedelta(hours=i)
        bought = viewed + pd.Timedelta(minutes=rng.randint(5, 600))
        rows += [f"u{i},view,{viewed.isoformat()}", f"u{i},buy,{bought.isoformat()}"]
        rows.append(f"u{i},survey,{(bought + pd.Timedelta(days=7)).isoformat()}")
    stages = jl.Stages({"look": ["view"], "buy": ["buy"], "after": ["survey"]})
    result = jl.journey_map(load(tmp_path, rows), stages, key_events=[])
    totals = result.table.query("kind == 'all'").set_index("stage")
    assert totals.median_hours_in_stage["buy"] == pytest.approx(168.0)
    assert result.notes == (
        "Median hours in buy read 168.0 because at least half of the 40 people who moved on"
        " reached after (survey) after that same time, to the minute. The journey map has no"
        " window: this is how the data is (a survey or message sent a fixed time later?), not a"
        " cap.",
    )
    assert "Note: Median hours in buy read 168.0" in result._repr_mimebundle_()["text/plain"]


def test_drivers_leave_out_the_steps_on_the_way_and_say_so(tmp_path: Path) -> None:
    rows = []
    for i in range(60):  # everyone who buys checks out first; a third of the rest do too
        rows.append(f"u{i},view,2024-01-01T10:00:00Z")
        if i % 2 == 0 or i % 3 == 0:
            rows.append(f"u{i},checkout,2024-01-01T10:01:00Z")
        if i % 4 == 0 or i % 5 == 0:  # coupon readers: 15 + 12 - 3 = 24 of 60
            rows.append(f"u{i},coupon,2024-01-01T10:01:30Z")
        if i % 2 == 0:
            rows.append(f"u{i},buy,2024-01-01T10:02:00Z")
    rows.append("later,other,2024-02-01T00:00:00Z")
    ev = load(tmp_path, rows)
    result = jl.drivers(ev, ["view", "buy"], "1d", min_support=5)
    assert "checkout" not in set(result.extras["all"].feature)
    # 30 buyers all checked out; of the 30 others, the odd multiples of 3 (3, 9, ..., 57): 10
    assert result.notes[0].startswith(
        "Left out as steps on the way to buy, not drivers: checkout (100% of converters, 33% of"
        " droppers)."
    )
    kept = jl.drivers(ev, ["view", "buy"], "1d", min_support=5, steps_between=None)
    checkout = kept.extras["all"].set_index("feature").loc["checkout"]
    assert (checkout.converters_with, checkout.droppers_with) == (30, 10)
    assert kept.notes == ()
    with pytest.raises(ParameterError, match="steps_between"):
        jl.drivers(ev, ["view", "buy"], "1d", steps_between=1.5)
