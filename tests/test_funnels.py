"""Funnels against a brute-force oracle, ClickHouse's windowFunnel, and hand-worked cases."""

from __future__ import annotations

import csv
import itertools
from datetime import timedelta

import ibis
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import journeylib as jl
from journeylib.funnels import funnel, unit_levels

BASE = pd.Timestamp("2024-01-01T00:00:00Z")
SECOND = 1_000_000


def events(rows: list[tuple[str, int, str]]) -> jl.Events:
    """Canonical events from (user, microseconds after BASE, name) rows."""
    frame = pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(len(rows))],
            "user_id": [u for u, _, _ in rows],
            "event_time": [BASE + pd.Timedelta(microseconds=t) for _, t, _ in rows],
            "event_name": [n for _, _, n in rows],
            "session_id": [f"{u}-s" for u, _, _ in rows],
        }
    )
    backend = ibis.duckdb.connect()
    backend.con.register("frame", frame)
    backend.raw_sql("create table ev as select * from frame")
    return jl.connect(backend, events="ev").events()


def oracle(rows, steps, window_us, mode="ordered", from_previous=False) -> dict[str, int]:
    """Exhaustive: every attempt, every choice of events; the best level per user with an entry."""
    levels: dict[str, int] = {}
    size = len(steps)
    for user, group in itertools.groupby(sorted(rows), key=lambda r: r[0]):
        # one row per (event, step it matches), in (time, step index) order
        matched = sorted(
            (t, k) for _, t, name in group for k, s in enumerate(steps, 1) if name == s
        )
        if not any(k == 1 for _, k in matched):
            continue
        best = 0
        if mode == "unordered":
            for anchor, _ in matched:
                inside = {k for t, k in matched if anchor <= t <= anchor + window_us}
                level = 0
                while level < size and level + 1 in inside:
                    level += 1
                best = max(best, level)
        else:

            def search(matched: list, position: int, reached: int, first: int, last: int) -> None:
                nonlocal best
                best = max(best, reached)
                for later in range(position + 1, len(matched)):
                    t, k = matched[later]
                    if k != reached + 1 or (mode == "strict_increase" and t <= last):
                        continue
                    if t <= (last if from_previous else first) + window_us:
                        search(matched, later, reached + 1, first, t)

            for position, (t, k) in enumerate(matched):
                if k == 1:
                    search(matched, position, 1, t, t)
        levels[user] = best
    return levels


def engine_levels(ev, steps, window_us, mode="ordered", from_previous=False) -> dict[str, int]:
    table = unit_levels(
        ev,
        steps,
        timedelta(microseconds=window_us),
        mode,
        window_from="previous_step" if from_previous else "entry",
    )
    frame = ev.engine.run(table.select("unit", "level"))
    return dict(zip(frame.unit, frame.level.astype(int), strict=True))


NAMES = ["A", "B", "C", "x", "o'q"]
TIMES = [0, 1, 2 * SECOND, 3 * SECOND, 5 * SECOND, 5 * SECOND + 1, 7 * SECOND, 10 * SECOND + 1]
logs = st.lists(
    st.tuples(st.sampled_from(["u1", "u2", "ü3"]), st.sampled_from(TIMES), st.sampled_from(NAMES)),
    min_size=1,
    max_size=9,
)
step_lists = st.sampled_from(
    [["A", "B", "C"], ["A", "B", "A"], ["A", "A"], ["o'q", "A", "B"], ["B", "A", "C", "A"]]
)
relaxed = settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


@relaxed
@given(logs, step_lists, st.sampled_from(["ordered", "strict_increase", "unordered"]))
def test_every_mode_matches_the_brute_force_oracle(rows, steps, mode):
    ev = events(rows)
    assert engine_levels(ev, steps, 5 * SECOND, mode) == oracle(rows, steps, 5 * SECOND, mode)


@relaxed
@given(logs, step_lists, st.sampled_from(["ordered", "strict_increase"]))
def test_windows_from_the_previous_step_match_the_oracle(rows, steps, mode):
    ev = events(rows)
    assert engine_levels(ev, steps, 5 * SECOND, mode, True) == oracle(
        rows, steps, 5 * SECOND, mode, True
    )


def clickhouse_levels(rows, steps, window_us, tmp_path, mode=None) -> dict[str, int]:
    chdb = pytest.importorskip("chdb")
    path = tmp_path / "events.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user", "t", "e"])
        writer.writerows(rows)
    conditions = ", ".join("e = '" + s.replace("'", "\\'") + "'" for s in steps)
    option = f", '{mode}'" if mode else ""
    query = (
        f"select user, windowFunnel({window_us}{option})(t, {conditions}) as level"
        f" from file('{path}', CSVWithNames, 'user String, t UInt64, e String') group by user"
    )
    out = chdb.query(query, "CSV").bytes().decode()
    levels = {}
    for user, level in csv.reader(out.splitlines()):
        levels[user] = int(level)
    return levels


@relaxed
@given(rows=logs, steps=step_lists)
def test_ordered_equals_clickhouse_window_funnel_user_for_user(rows, steps, tmp_path_factory):
    expected = clickhouse_levels(rows, steps, 5 * SECOND, tmp_path_factory.mktemp("ch"))
    got = engine_levels(events(rows), steps, 5 * SECOND)
    # ClickHouse also lists users without an entry, at level 0
    assert got == {u: level for u, level in expected.items() if level > 0 or u in got}


def test_clickhouse_strict_increase_misses_a_later_attempt_that_ours_counts(tmp_path):
    # A@0, A@1s, B@1s, C@2s: the attempt from A@0 reaches C (0 < 1s < 2s). ClickHouse's state
    # machine keeps only the latest A (1s), from which B@1s is not strictly later, so it stops at 1.
    rows = [("u", 0, "A"), ("u", SECOND, "A"), ("u", SECOND, "B"), ("u", 2 * SECOND, "C")]
    assert clickhouse_levels(rows, ["A", "B", "C"], 5 * SECOND, tmp_path, "strict_increase") == {
        "u": 1
    }
    assert engine_levels(events(rows), ["A", "B", "C"], 5 * SECOND, "strict_increase") == {"u": 3}


def test_golden_funnel_with_rates_intervals_timing_and_in_progress():
    minute = 60 * SECOND
    rows = [
        # u1: view, cart after 2 min, buy after 10 min more: reaches 3
        ("u1", 0, "view"),
        ("u1", 2 * minute, "cart"),
        ("u1", 12 * minute, "buy"),
        # u2: view, then cart 2 hours later: outside the 1-hour window from entry; a second
        # view at 90 min re-enters, and cart at 120 min is 30 min after it: reaches 2
        ("u2", 0, "view"),
        ("u2", 90 * minute, "view"),
        ("u2", 120 * minute, "cart"),
        # u3: view only, at the very end of the data: still inside its window
        ("u3", 600 * minute, "view"),
        # u4: view only, long before the end: dropped
        ("u4", 0, "view"),
        # u5: cart and buy without a view: not in the funnel
        ("u5", 0, "cart"),
        ("u5", minute, "buy"),
    ]
    result = funnel(events(rows), ["view", "cart", "buy"], within="1h")
    table = result.table
    assert table.users.tolist() == [4, 2, 1]
    assert table.conversion_rate.tolist() == [1.0, 0.5, 0.25]  # 2/4, 1/4
    assert table.step_conversion_rate.tolist() == [1.0, 0.5, 0.5]  # 2/4, 1/2
    assert table.drop_off.tolist() == [0, 2, 1]
    # u3 entered 0 s before the data ends, so may still reach cart
    assert table.in_progress.tolist() == [0, 1, 0]
    # cart: u1 after 120 s, u2 after 1800 s -> median 960 s; buy: u1 600 s after cart, 720 s after entry
    assert table.median_seconds_from_previous.tolist()[1:] == [960.0, 600.0]
    assert table.mean_seconds_from_entry.tolist() == [0.0, 960.0, 720.0]
    # Wilson 95% interval of 2/4
    assert table.conversion_low[1] == pytest.approx(0.15003, abs=1e-5)
    assert table.conversion_high[1] == pytest.approx(0.84997, abs=1e-5)
    assert "select" in result.sql.lower()
    assert result.chart().to_dict()["mark"]["type"] == "bar"


def test_breakdown_takes_the_value_at_entry():
    # u1 enters through Email (then returns Direct) and buys; u2 enters Direct and does not; u3 enters Email
    frame = pd.DataFrame(
        {
            "user_id": ["u1", "u1", "u1", "u2", "u3"],
            "event_time": [
                BASE,
                BASE + pd.Timedelta(hours=1),
                BASE + pd.Timedelta(hours=2),
                BASE,
                BASE,
            ],
            "event_name": ["view", "view", "buy", "view", "view"],
            "channel": ["Email", "Direct", "Direct", "Direct", "Email"],
        }
    )
    backend = ibis.duckdb.connect()
    backend.con.register("frame", frame)
    backend.raw_sql("create table ev as select * from frame")
    result = funnel(jl.connect(backend, events="ev").events(), ["view", "buy"], by="channel")
    assert result.table[["channel", "step", "users", "conversion_rate"]].values.tolist() == [
        ["Direct", "view", 1, 1.0],
        ["Direct", "buy", 0, 0.0],
        ["Email", "view", 2, 1.0],
        ["Email", "buy", 1, 0.5],
    ]


def test_bad_parameters_name_the_allowed_values():
    ev = events([("u", 0, "A")])
    with pytest.raises(jl.ParameterError, match=r"Did you mean 'ordered'"):
        funnel(ev, ["A", "B"], mode="orderd")
    with pytest.raises(jl.ParameterError, match=r"parameter 'steps'"):
        funnel(ev, ["A"])
    with pytest.raises(jl.ParameterError, match=r"parameter 'within'"):
        funnel(ev, ["A", "B"], within="7")


def test_exclusion_removes_units_whose_best_attempt_has_the_event_between_steps():
    minute = 60 * SECOND
    rows = [
        # u1: view, a support ticket, then buy: excluded from the whole funnel
        ("u1", 0, "view"),
        ("u1", minute, "ticket"),
        ("u1", 2 * minute, "buy"),
        # u2: a ticket before the view and after the buy: not between its steps, kept
        ("u2", 0, "ticket"),
        ("u2", minute, "view"),
        ("u2", 2 * minute, "buy"),
        ("u2", 3 * minute, "ticket"),
        # u3: view, ticket, no buy: a level-1 attempt has nothing between steps, kept
        ("u3", 0, "view"),
        ("u3", minute, "ticket"),
    ]
    table = funnel(events(rows), ["view", "buy"], within="1h", exclude=["ticket"]).table
    assert table.users.tolist() == [2, 1]  # u2 and u3 enter; u2 buys
    assert funnel(events(rows), ["view", "buy"], within="1h").table.users.tolist() == [3, 2]


def test_small_breakdown_groups_fold_into_other():
    ev = jl.datasets.sample_or("").events()
    steps = ["view_item", "add_to_cart", "purchase"]
    every = funnel(ev, steps, by="channel", max_groups=100).table
    folded = funnel(ev, steps, by="channel", max_groups=2).table
    entering = every[every.step_index == 1].sort_values(
        ["users", "channel"], ascending=[False, True]
    )
    top = entering.channel.tolist()[:2]
    assert sorted(folded.channel.unique()) == sorted([*top, "other"])
    for step in (1, 2, 3):
        at = every[every.step_index == step]
        rest = at[~at.channel.isin(top)].users.sum()
        mine = folded[folded.step_index == step].set_index("channel").users
        assert mine["other"] == rest
        assert mine[top].tolist() == at.set_index("channel").users[top].tolist()
    with pytest.raises(jl.ParameterError, match="max_groups"):
        funnel(ev, steps, by="channel", max_groups=0)
