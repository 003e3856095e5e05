"""Funnels against a brute-force oracle, ClickHouse's windowFunnel, and hand-worked cases."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

import ibis
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from oracles import BASE, SECOND, at
from oracles import events as canonical
from oracles.funnels import oracle, strict_oracle

import journeylib as jl
from journeylib.analyses.funnels import funnel
from journeylib.model.levels import unit_levels


def events(rows: list[tuple[str, int, str]]) -> jl.Events:
    """Canonical events from (user, microseconds after BASE, name) rows, one session per user."""
    return canonical(
        {"user_id": u, "event_time": at(t), "event_name": n, "session_id": f"{u}-s"}
        for u, t, n in rows
    )


def engine_levels(
    ev, steps, window_us, mode="ordered", from_previous=False, step_us=None
) -> dict[str, int]:
    table = unit_levels(
        ev,
        steps,
        timedelta(microseconds=window_us),
        mode,
        window_from="previous_step" if from_previous else "entry",
        step_within=[timedelta(microseconds=w) for w in step_us] if step_us else None,
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


@given(logs, step_lists, st.sampled_from(["ordered", "strict_increase", "unordered"]))
def test_every_mode_matches_the_brute_force_oracle(rows, steps, mode):
    ev = events(rows)
    assert engine_levels(ev, steps, 5 * SECOND, mode) == oracle(rows, steps, 5 * SECOND, mode)


@given(logs, step_lists, st.sampled_from(["ordered", "strict_increase"]))
def test_windows_from_the_previous_step_match_the_oracle(rows, steps, mode):
    ev = events(rows)
    assert engine_levels(ev, steps, 5 * SECOND, mode, True) == oracle(
        rows, steps, 5 * SECOND, mode, True
    )


@given(logs, step_lists, st.booleans())
def test_strict_mode_matches_its_oracle(rows, steps, from_previous):
    ev = events(rows)
    assert engine_levels(ev, steps, 5 * SECOND, "strict", from_previous) == strict_oracle(
        rows, steps, 5 * SECOND, from_previous
    )


@given(logs, step_lists, st.sampled_from(["ordered", "strict_increase"]), st.booleans())
def test_per_step_windows_match_the_oracle(rows, steps, mode, from_previous):
    # the second step within 2 s of the first, every later one within 3 s of the one before
    step_us = [2 * SECOND] + [3 * SECOND] * (len(steps) - 2)
    ev = events(rows)
    assert engine_levels(ev, steps, 5 * SECOND, mode, from_previous, step_us) == oracle(
        rows, steps, 5 * SECOND, mode, from_previous, step_us
    )


def test_strict_mode_by_hand():
    # u1: A B C, nothing between: 3. u2: A x B C: x breaks A->B, so 1.
    # u3: A A B: the second A is followed by B: 2. u4: A@0 and B@0 tie: step order puts A first: 2.
    # u5: A, then B 6 s later (outside the 5 s window): 1.
    rows = [
        ("u1", 0, "A"), ("u1", SECOND, "B"), ("u1", 2 * SECOND, "C"),
        ("u2", 0, "A"), ("u2", 1, "x"), ("u2", SECOND, "B"), ("u2", 2 * SECOND, "C"),
        ("u3", 0, "A"), ("u3", SECOND, "A"), ("u3", 2 * SECOND, "B"),
        ("u4", 0, "B"), ("u4", 0, "A"),
        ("u5", 0, "A"), ("u5", 6 * SECOND, "B"),
    ]  # fmt: skip
    got = engine_levels(events(rows), ["A", "B", "C"], 5 * SECOND, "strict")
    assert got == {"u1": 3, "u2": 1, "u3": 2, "u4": 2, "u5": 1}
    # the same log in ordered mode: u2 reaches C through the x, u5 stays at 1
    ordered = engine_levels(events(rows), ["A", "B", "C"], 5 * SECOND)
    assert ordered == {"u1": 3, "u2": 3, "u3": 2, "u4": 2, "u5": 1}


def test_strict_in_progress_only_when_nothing_followed_the_last_step():
    # the data ends at 3 s (u3's event); windows of 1 day are open for everyone.
    # u1: A then x: x ended the attempt, so u1 dropped. u2: A alone: still in progress.
    rows = [("u1", 0, "A"), ("u1", SECOND, "x"), ("u2", 0, "A"), ("u3", 3 * SECOND, "y")]
    table = funnel(events(rows), ["A", "B"], within="1d", mode="strict").table
    assert table[["step", "users", "in_progress"]].values.tolist() == [
        ["A", 2, 0],
        ["B", 0, 1],
    ]


def test_per_step_windows_by_hand():
    hour = 3600 * SECOND
    # u1: view 0, cart 30 min, buy 5 h: the buy is 4.5 h after the cart (step window 2 h): 2.
    # u2: view 0, cart 3 h (step window 1 h missed), cart 10 h? no: a later view at 9 h then cart 9.5 h,
    #     buy 10 h: the attempt from the second view passes both step windows: 3.
    rows = [
        ("u1", 0, "view"), ("u1", hour // 2, "cart"), ("u1", 5 * hour, "buy"),
        ("u2", 0, "view"), ("u2", 3 * hour, "cart"), ("u2", 9 * hour, "view"),
        ("u2", 9 * hour + hour // 2, "cart"), ("u2", 10 * hour, "buy"),
    ]  # fmt: skip
    result = funnel(events(rows), ["view", "cart", "buy"], within="1d", step_within=["1h", "2h"])
    assert result.table.users.tolist() == [2, 2, 1]
    assert result.params["step_within"] == ["1h", "2h"]
    with pytest.raises(jl.ParameterError, match="one window per step after the first"):
        funnel(events(rows), ["view", "cart", "buy"], step_within=["1h"])


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


@pytest.mark.slow
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


def test_clickhouse_strict_order_differs_from_strict_where_design_md_decides(tmp_path):
    # u1: A B B C. The second B is another event between the steps B and C, so strict stops at 2;
    # ClickHouse's strict_order lets a repeat of a reached step through and reports 3.
    # u2: A C A B. ClickHouse stops its scan at the out-of-order C and reports 1; the attempt
    # from the second A is unbroken (A then B), so strict gives 2.
    rows = [
        ("u1", 0, "A"), ("u1", SECOND, "B"), ("u1", 2 * SECOND, "B"), ("u1", 3 * SECOND, "C"),
        ("u2", 0, "A"), ("u2", SECOND, "C"), ("u2", 2 * SECOND, "A"), ("u2", 3 * SECOND, "B"),
    ]  # fmt: skip
    steps = ["A", "B", "C"]
    assert clickhouse_levels(rows, steps, 5 * SECOND, tmp_path, "strict_order") == {
        "u1": 3,
        "u2": 1,
    }
    assert engine_levels(events(rows), steps, 5 * SECOND, "strict") == {"u1": 2, "u2": 2}
    assert strict_oracle(rows, steps, 5 * SECOND) == {"u1": 2, "u2": 2}


GOLDEN = Path(__file__).parent / "golden" / "funnels"
CASES = {
    "ordered": {},
    "strict": {"mode": "strict"},
    "strict_increase": {"mode": "strict_increase"},
    "unordered": {"mode": "unordered"},
    "previous_step": {"window_from": "previous_step"},
    "step_windows": {"step_within": ["15m", "15m"]},
}


@pytest.mark.parametrize("case", list(CASES))
def test_golden_funnel_file_in_every_mode(case):
    # the arithmetic for each person and case is in tests/golden/funnels/README.md
    ws = jl.open()
    ws.load_events(GOLDEN / "events.csv")
    table = funnel(ws.events(), ["view", "cart", "buy"], within="1h", **CASES[case]).table
    expected = pd.read_csv(GOLDEN / "expected.csv").query("case == @case")
    got = table[["step", "users", "in_progress"]].values.tolist()
    assert got == expected[["step", "users", "in_progress"]].values.tolist()


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
    assert result.chart().to_dict()["layer"][0]["mark"]["type"] == "bar"


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
    result = funnel(canonical(frame), ["view", "buy"], by="channel")
    assert result.table[["channel", "step", "users", "conversion_rate"]].values.tolist() == [
        ["Direct", "view", 1, 1.0],
        ["Direct", "buy", 0, 0.0],
        ["Email", "view", 2, 1.0],
        ["Email", "buy", 1, 0.5],
    ]


def breakdown_log() -> jl.Events:
    """u1 views through Email, views again through Direct, adds to cart via Social, buys via Paid;
    u2 views once (Direct); u3 views (Email) and 10 days later views (Affiliates) and buys the
    same day: with a 7-day window only the second attempt reaches the buy."""
    day, hour = pd.Timedelta(days=1), pd.Timedelta(hours=1)
    frame = pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(8)],
            "user_id": ["u1", "u1", "u1", "u1", "u2", "u3", "u3", "u3"],
            "event_time": [
                BASE, BASE + hour, BASE + 2 * hour, BASE + 3 * hour, BASE,
                BASE, BASE + 10 * day, BASE + 10 * day + hour,
            ],
            "event_name": ["view", "view", "cart", "buy", "view", "view", "view", "buy"],
            "channel": ["Email", "Direct", "Social", "Paid", "Direct", "Email", "Affiliates", "Paid"],
            "properties": [
                '{"plan": "pro"}', "{}", "{}", "{}", '{"plan": "free"}', '{"plan": 3}', "{}", "{}",
            ],
        }
    )  # fmt: skip
    backend = ibis.duckdb.connect()
    backend.con.register("frame", frame)
    backend.raw_sql(
        "create table ev as select * replace (properties::json as properties) from frame"
    )
    return jl.connect(backend, events="ev").events()


def by_rows(ev, by, by_value, steps=("view", "cart", "buy")):
    table = funnel(ev, list(steps), by=by, by_value=by_value).table
    return {(k, step): n for k, step, n in table[[by, "step", "users"]].values.tolist()}


def test_breakdown_values_from_the_best_attempts_entry_last_step_or_step_n():
    ev = breakdown_log()
    # first: u1 Email (its best attempt starts at the first view), u2 Direct,
    # u3 Affiliates (its best attempt, view -> buy, starts at the second view)
    first = by_rows(ev, "channel", "first", ("view", "buy"))
    assert first == {
        ("Affiliates", "view"): 1, ("Affiliates", "buy"): 1,
        ("Direct", "view"): 1, ("Direct", "buy"): 0,
        ("Email", "view"): 1, ("Email", "buy"): 1,
    }  # fmt: skip
    # last, over view -> cart -> buy: u1 ends on the buy (Paid), u2 on its only view (Direct);
    # u3 never adds to cart, so its best attempt is the earliest entry alone (Email)
    last = by_rows(ev, "channel", "last")
    assert last == {
        ("Direct", "view"): 1, ("Direct", "cart"): 0, ("Direct", "buy"): 0,
        ("Email", "view"): 1, ("Email", "cart"): 0, ("Email", "buy"): 0,
        ("Paid", "view"): 1, ("Paid", "cart"): 1, ("Paid", "buy"): 1,
    }  # fmt: skip
    # step:2: u1's cart was Social; u2 and u3 never reached the cart
    second = by_rows(ev, "channel", "step:2")
    assert second == {
        ("(none)", "view"): 2, ("(none)", "cart"): 0, ("(none)", "buy"): 0,
        ("Social", "view"): 1, ("Social", "cart"): 1, ("Social", "buy"): 1,
    }  # fmt: skip
    with pytest.raises(jl.ParameterError, match=r"'step:4'.*first, last, step:1, step:2, step:3"):
        by_rows(ev, "channel", "step:4")


def test_breakdown_by_a_properties_key_reads_numbers_as_written():
    ev = breakdown_log()
    # u3's entry (second view) has no plan: "(none)"; u3's first view had plan 3 but is not the entry
    plans = by_rows(ev, "plan", "first", ("view", "buy"))
    assert plans == {
        ("(none)", "view"): 1, ("(none)", "buy"): 1,
        ("free", "view"): 1, ("free", "buy"): 0,
        ("pro", "view"): 1, ("pro", "buy"): 1,
    }  # fmt: skip
    with pytest.raises(jl.ParameterError, match=r"'plann'.*No such column, and no event"):
        by_rows(ev, "plann", "first")


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
