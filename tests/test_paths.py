"""Paths, path trees and step matrices against plain-Python brute-force oracles and hand-worked cases."""

from __future__ import annotations

import pandas as pd
import pytest
import vl_convert
from oracles.paths import (
    events,
    oracle_matrix,
    oracle_paths,
    oracle_tree,
    random_log,
    sequences,
    simple,
)

from journeylib.analyses.paths import next_steps, paths, previous_steps, step_matrix
from journeylib.core.errors import ParameterError
from journeylib.model.labels import END, OTHER, START


def frame_records(table: pd.DataFrame) -> list[dict]:
    out = []
    for rec in table.to_dict("records"):
        out.append({k: (None if pd.isna(v) else v) for k, v in rec.items()})
    return out


def assert_records_equal(got: list[dict], want: list[dict]) -> None:
    assert len(got) == len(want), (got, want)
    for g, w in zip(got, want, strict=True):
        assert g.keys() == w.keys()
        for key in w:
            if isinstance(w[key], float):
                assert g[key] == pytest.approx(w[key]), (key, g, w)
            else:
                assert g[key] == w[key], (key, g, w)


OPTIONS = [
    {"unit": "user", "collapse_repeats": True, "rename": None},
    {"unit": "session", "collapse_repeats": False, "rename": None},
    {"unit": "user", "collapse_repeats": False, "rename": {"^vi": "v*", "o'q": "quote"}},
]


@pytest.mark.parametrize("seed", range(8))
def test_paths_match_the_oracle(seed):
    rows = random_log(seed)
    ev = events(rows)
    options = OPTIONS[seed % len(OPTIONS)]
    renamed_view = "v*" if options["rename"] else "view"
    cases = [
        {"steps": 3, "top": 4},
        {"start": "home", "steps": 4, "top": 3, "conversion": "buy"},
        {"end": "buy", "steps": 3, "top": 5},
        {"start": "home", "end": "buy", "steps": 3, "top": 20},
        {"start": renamed_view, "steps": 2, "top": 1, "conversion": "cart"},
    ]
    seqs = sequences(rows, options["unit"], options["collapse_repeats"], options["rename"])
    for case in cases:
        result = paths(ev, **case, **options)
        want = oracle_paths(seqs, **case)
        assert_records_equal(frame_records(result.table), want)


@pytest.mark.parametrize("seed", range(6))
def test_next_and_previous_steps_match_the_oracle(seed):
    rows = random_log(100 + seed)
    ev = events(rows)
    options = OPTIONS[seed % len(OPTIONS)]
    seqs = sequences(rows, options["unit"], options["collapse_repeats"], options["rename"])
    for anchor, steps, top in [("home", 3, 2), ("buy", 2, 5), ("cart", 4, 1)]:
        for function, direction in [(next_steps, 1), (previous_steps, -1)]:
            result = function(ev, anchor, steps=steps, top=top, **options)
            want, total = oracle_tree(seqs, anchor, steps, top, direction)
            table = result.table
            got = {
                (int(s), e, p, int(n))
                for s, e, p, n in table[["step", "event", "parent", "users"]].values
            }
            assert got == want
            assert len(got) == len(table)  # no duplicate rows
            if total:
                assert table.share.tolist() == pytest.approx((table.users / total).tolist())
                # the rows of each step are its units (once each) that had not run out before
                for step, group in table[table.step != 0].groupby("step"):
                    earlier = table[(table.step.abs() < abs(step)) & table.event.isin([END, START])]
                    assert group.users.sum() == total - earlier.users.sum()


@pytest.mark.parametrize("seed", range(9))
def test_step_matrix_matches_the_oracle(seed):
    rows = random_log(200 + seed)
    ev = events(rows)
    options = OPTIONS[seed % len(OPTIONS)]
    seqs = sequences(rows, options["unit"], options["collapse_repeats"], options["rename"])
    for anchor, steps, before in [(None, 4, 0), ("cart", 3, 2), ("home", 1, 3)]:
        result = step_matrix(ev, anchor, steps, before, **options)
        got = {
            (int(k), e, int(n), s)
            for k, e, n, s in result.table[["step", "event", "users", "share"]].values
        }
        want = oracle_matrix(seqs, anchor, steps, before)
        assert {g[:3] for g in got} == {w[:3] for w in want}
        shares = dict(((k, e), s) for k, e, _, s in got)
        for k, e, _, s in want:
            assert shares[(k, e)] == pytest.approx(s)
        if want:  # every step's shares sum to 1
            sums = result.table.groupby("step").share.sum()
            assert sums.tolist() == pytest.approx([1.0] * len(sums))


# ---------------------------------------------------------------- hand-worked examples


def test_paths_hand_worked():
    ev = events(
        simple(
            {
                "a": "home view view cart buy",
                "b": "home view cart",
                "c": "view home view cart",
                "d": "cart",
                "e": "home search buy",
            }
        )
    )
    r = paths(ev, start="home", steps=3, conversion="buy")
    assert r.table.columns.tolist() == ["path", "steps", "users", "share", "conversion_rate"]
    assert r.table.values.tolist() == [
        ["home > view > cart", 3, 3, 0.75, 1 / 3],
        ["home > search > buy", 3, 1, 0.25, 1.0],
    ]
    # no collapse: a's repeated view stays
    r = paths(ev, start="home", steps=3, collapse_repeats=False, top=1)
    assert r.table[["path", "steps", "users"]].values.tolist() == [
        ["home > view > cart", 3, 2],
        [OTHER, pd.NA, 2],
    ]
    # backward, ending at each unit's first buy
    r = paths(ev, end="buy", steps=2)
    assert r.table[["path", "users", "share"]].values.tolist() == [
        ["cart > buy", 1, 0.5],
        ["search > buy", 1, 0.5],
    ]
    # both ends: the middle of a longer path is shown as …
    r = paths(ev, start="home", end="buy", steps=3)
    assert r.table[["path", "steps", "users"]].values.tolist() == [
        ["home > search > buy", 3, 1],
        ["home > view > … > buy", 3, 1],
    ]
    # neither: from each first event; rename groups before collapsing
    r = paths(ev, steps=2, rename={"^(view|search)$": "browse"})
    assert r.table[["path", "users"]].values.tolist() == [
        ["home > browse", 3],
        ["browse > home", 1],
        ["cart", 1],
    ]


def test_ties_are_broken_by_event_id():
    # same time for both of u's events: "e1" sorts before "e2", whatever the load order
    rows = [("e2", "u", "s", 0, "b"), ("e1", "u", "s", 0, "a"), ("e3", "u", "s", 5, "c")]
    ev = events(rows)
    assert paths(ev).table.path.tolist() == ["a > b > c"]
    rows = [("x9", "u", "s", 0, "b"), ("x10", "u", "s", 0, "a")]  # string order: x10 < x9
    assert paths(events(rows)).table.path.tolist() == ["a > b"]


def test_sessions_are_units():
    rows = [
        ("1", "u", "s1", 0, "home"),
        ("2", "u", "s1", 1, "buy"),
        ("3", "u", "s2", 10, "home"),
        ("4", "u", "s2", 11, "view"),
    ]
    ev = events(rows)
    by_user = paths(ev, start="home")
    by_session = paths(ev, start="home", unit="session")
    assert by_user.table[["path", "users"]].values.tolist() == [["home > buy > home > view", 1]]
    assert by_session.table[["path", "users"]].values.tolist() == [
        ["home > buy", 1],
        ["home > view", 1],
    ]


def test_next_steps_hand_worked():
    ev = events(
        simple(
            {
                "a": "home view cart buy",
                "b": "home view view",
                "c": "home search",
                "d": "search home cart",
                "e": "view",
            }
        )
    )
    r = next_steps(ev, "home", steps=3, top=1)
    assert r.table.columns.tolist() == ["step", "event", "parent", "users", "share"]
    assert r.table[["step", "event", "parent", "users"]].values.tolist() == [
        [0, "home", None, 4],
        [1, "view", "home", 2],
        [1, OTHER, "home", 2],
        [2, "cart", "view", 1],
        [2, END, OTHER, 2],
        [2, END, "view", 1],
        [3, "buy", "cart", 1],
    ]
    assert r.table.share.tolist() == [1.0, 0.5, 0.5, 0.25, 0.5, 0.25, 0.25]
    r = previous_steps(ev, "cart", steps=2)
    assert r.table[["step", "event", "parent", "users"]].values.tolist() == [
        [0, "cart", None, 2],
        [-1, "home", "cart", 1],
        [-1, "view", "cart", 1],
        [-2, "home", "view", 1],
        [-2, "search", "home", 1],
    ]


def test_step_matrix_hand_worked():
    ev = events(simple({"a": "home view buy", "b": "view home", "c": "home"}))
    r = step_matrix(ev, steps=3)
    assert r.table.values.tolist() == [
        [1, "home", 2, 2 / 3],
        [1, "view", 1, 1 / 3],
        [2, "home", 1, 1 / 3],
        [2, "view", 1, 1 / 3],
        [2, END, 1, 1 / 3],
        [3, "buy", 1, 1 / 3],
        [3, END, 2, 2 / 3],
    ]
    r = step_matrix(ev, "view", steps=1, before=1)
    assert r.table.values.tolist() == [
        [-1, "home", 1, 0.5],
        [-1, START, 1, 0.5],
        [0, "view", 2, 1.0],
        [1, "buy", 1, 0.5],
        [1, "home", 1, 0.5],
    ]
    assert r.extras["matrix"].columns.tolist() == ["event", "-1", "0", "1"]


# ---------------------------------------------------------------- errors, SQL, charts


def test_bad_parameters_raise_parameter_errors():
    ev = events(simple({"a": "home view buy"}))
    with pytest.raises(ParameterError, match="unit"):
        paths(ev, unit="team")
    with pytest.raises(ParameterError, match="steps"):
        paths(ev, steps=0)
    with pytest.raises(ParameterError, match="steps"):
        paths(ev, start="home", end="buy", steps=1)
    with pytest.raises(ParameterError, match="top"):
        paths(ev, top=True)
    with pytest.raises(ParameterError, match="rename"):
        paths(ev, rename={"(": "x"})
    with pytest.raises(ParameterError, match="Did you mean 'home'"):
        paths(ev, start="hme")
    with pytest.raises(ParameterError, match="conversion"):
        paths(ev, conversion="biy")
    with pytest.raises(ParameterError, match="after"):
        next_steps(ev, "viwe")
    with pytest.raises(ParameterError, match="before"):
        previous_steps(ev, "bu")
    with pytest.raises(ParameterError, match="before"):
        step_matrix(ev, before=2)
    with pytest.raises(ParameterError, match="anchor"):
        step_matrix(ev, "hom")
    # a name nothing resembles is a legitimate empty result, like funnels
    assert paths(ev, start="zzzzzzzz").table.empty
    assert next_steps(ev, "zzzzzzzz").table.empty
    assert step_matrix(ev, "zzzzzzzz").table.empty
    # renamed names are the ones anchors refer to
    assert paths(ev, start="page", rename={"home|view": "page"}).table.path.tolist() == [
        "page > buy"
    ]


def test_user_strings_never_break_the_sql():
    nasty = "x'); drop table ev; --"
    ev = events(simple({"a": f"home {nasty.replace(' ', '_')} buy"}))
    r = paths(ev, rename={"'\\);": "quoted"}, start="home")
    assert r.table.path.tolist() == ["home > quoted > buy"]
    assert ev.count() == 3


def test_sql_is_the_query_that_ran():
    ev = events(simple({"a": "home view", "b": "home buy", "c": "home view"}))
    r = paths(ev, start="home")
    frame = ev.engine.ibis.con.execute(str(r.sql)).df()
    assert sorted(zip(frame.path, frame.users, strict=True)) == [
        ("home > buy", 1),
        ("home > view", 2),
    ]
    assert "ROW_NUMBER" in r.sql.upper()


def test_charts_render_offline():
    ev = events(random_log(7) + simple({"z": "home view cart buy"}))
    results = [
        paths(ev, start="home", steps=4),
        paths(ev, start="home", end="buy", steps=3),
        next_steps(ev, "home"),
        previous_steps(ev, "buy"),
        step_matrix(ev, "view", before=2),
        paths(ev, start="zzzzzzzz"),
    ]
    for result in results:
        assert "<svg" in vl_convert.vegalite_to_svg(result.chart().to_dict())


def test_collapsing_follows_the_tie_broken_order():
    # repeats are found in (time, event_id) order, and the kept events keep that order
    rows = [
        ("e3", "u", "s", 0, "a"),
        ("e1", "u", "s", 0, "b"),
        ("e2", "u", "s", 0, "a"),
        ("e5", "u", "s", 5, "c"),
        ("e4", "u", "s", 5, "a"),
    ]
    ev = events(rows)
    assert paths(ev).table.path.tolist() == ["b > a > c"]
    assert paths(ev, collapse_repeats=False).table.path.tolist() == ["b > a > a > a > c"]
    assert paths(ev, start="a", steps=2).table.path.tolist() == ["a > c"]
