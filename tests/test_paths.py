"""Paths, path trees and step matrices against plain-Python brute-force oracles and hand-worked cases."""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict

import pandas as pd
import pytest
import vl_convert
from oracles import SECOND, at
from oracles import events as canonical

import journeylib as jl
from journeylib.errors import ParameterError
from journeylib.paths import END, OTHER, START, next_steps, paths, previous_steps, step_matrix

Row = tuple[str, str, str, int, str]  # event_id, user, session, microseconds after BASE, name


def events(rows: list[Row]) -> jl.Events:
    """Canonical events from (event id, user, session, microseconds after BASE, name) rows."""
    return canonical(
        {"event_id": e, "user_id": u, "event_time": at(t), "event_name": n, "session_id": s}
        for e, u, s, t, n in rows
    )


def simple(spec: dict[str, str], gap: int = SECOND) -> list[Row]:
    """Rows from {user: "a b c"}: one session per user, events ``gap`` apart."""
    rows = []
    for user, names in spec.items():
        for i, name in enumerate(names.split()):
            rows.append((f"{user}-{i:03d}", user, f"{user}-s", i * gap, name))
    return rows


# ---------------------------------------------------------------- oracles


def sequences(rows, unit="user", collapse=True, rename=None) -> dict[str, list[tuple[str, int]]]:
    """Each unit's (name, time) sequence: sorted by (time, event_id), renamed, repeats collapsed."""
    rules = [(re.compile(p), g) for p, g in (rename or {}).items()]

    def renamed(name: str) -> str:
        return next((g for p, g in rules if p.search(name)), name)

    grouped: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    for event_id, user, session, t, name in rows:
        grouped[user if unit == "user" else session].append((t, event_id, renamed(name)))
    out = {}
    for key, items in grouped.items():
        items.sort()
        seq: list[tuple[str, int]] = []
        for t, _, name in items:
            if collapse and seq and seq[-1][0] == name:
                continue
            seq.append((name, t))
        out[key] = seq
    return out


def oracle_paths(seqs, start=None, end=None, steps=5, top=20, conversion=None):
    per_unit = []
    for seq in seqs.values():
        names = [n for n, _ in seq]
        if start is not None and end is not None:
            if start not in names:
                continue
            a = names.index(start)
            b = next((i for i in range(a + 1, len(names)) if names[i] == end), None)
            if b is None:
                continue
            span = names[a : b + 1]
            shown = span if len(span) <= steps else [*span[: steps - 1], "…", end]
            count = min(len(span), steps)
            anchor = a
        elif start is not None:
            if start not in names:
                continue
            anchor = names.index(start)
            shown = names[anchor : anchor + steps]
            count = len(shown)
        elif end is not None:
            if end not in names:
                continue
            anchor = names.index(end)
            shown = names[max(0, anchor - steps + 1) : anchor + 1]
            count = len(shown)
        else:
            anchor = 0
            shown = names[:steps]
            count = len(shown)
        converted = conversion is not None and conversion in names[anchor + 1 :]
        per_unit.append((" > ".join(shown), count, converted))
    users = Counter((p, c) for p, c, _ in per_unit)
    conv = Counter((p, c) for p, c, x in per_unit if x)
    ranked = sorted(users, key=lambda pc: (-users[pc], pc[0], pc[1]))
    total = len(per_unit)
    rows = [(p, c, users[(p, c)], conv[(p, c)]) for p, c in ranked[:top]]
    rest = ranked[top:]
    if rest:
        rows.append((OTHER, None, sum(users[k] for k in rest), sum(conv[k] for k in rest)))
    return [
        {
            "path": p,
            "steps": c,
            "users": n,
            "share": n / total,
            **({"conversion_rate": x / n} if conversion is not None else {}),
        }
        for p, c, n, x in rows
    ]


def oracle_tree(seqs, anchor, steps, top, direction):
    missing = END if direction > 0 else START
    walks = []
    for seq in seqs.values():
        names = [n for n, _ in seq]
        if anchor not in names:
            continue
        a = names.index(anchor)
        walk = []
        for k in range(1, steps + 1):
            i = a + k * direction
            if 0 <= i < len(names):
                walk.append(names[i])
            else:
                walk.append(missing)
                break
        walks.append(walk)
    counts: dict[int, Counter] = defaultdict(Counter)
    for walk in walks:
        for k, name in enumerate(walk, start=1):
            counts[k][name] += 1
    keep = {
        k: {n for n in sorted((n for n in c if n != missing), key=lambda n: (-c[n], n))[:top]}
        for k, c in counts.items()
    }
    edges: Counter = Counter()
    for walk in walks:
        parent = anchor
        for k, name in enumerate(walk, start=1):
            label = name if name == missing or name in keep[k] else OTHER
            edges[(k * direction, label, parent)] += 1
            parent = label
    total = len(walks)
    rows = {(0, anchor, None, total)} if total else set()
    rows |= {(k, e, p, n) for (k, e, p), n in edges.items()}
    return rows, total


def oracle_matrix(seqs, anchor=None, steps=5, before=0):
    cells: Counter = Counter()
    total = 0
    low = -before if anchor is not None else 1
    offset = 0 if anchor is not None else 1
    for seq in seqs.values():
        names = [n for n, _ in seq]
        if anchor is not None and anchor not in names:
            continue
        total += 1
        a = names.index(anchor) if anchor is not None else 0
        for k in range(low, steps + 1):
            i = a + k - offset
            name = names[i] if 0 <= i < len(names) else (END if i >= len(names) else START)
            cells[(k, name)] += 1
    return {(k, e, n, n / total) for (k, e), n in cells.items()}


# ---------------------------------------------------------------- random logs with traps

NAMES = ["home", "view", "visit", "cart", "buy", "o'q", "ü"]
TIMES = [0, 1, 2 * SECOND, 2 * SECOND, 3 * SECOND + 250_000, 60 * SECOND, 3600 * SECOND]


def random_log(seed: int) -> list[Row]:
    """Users with 1..10 events; many equal timestamps (ties broken by random event ids),
    repeats, single-event users and several sessions per user."""
    rng = random.Random(seed)
    rows: list[Row] = []
    ids = rng.sample(range(100_000), 200)
    for u in range(rng.randint(1, 9)):
        user = f"u{u}"
        for _ in range(rng.choice([1, 1, 2, 3, 5, 7, 10])):
            t = rng.choice(TIMES) + rng.choice([0, 0, 86_400 * SECOND])
            name = rng.choice(NAMES[:3] if rng.random() < 0.3 else NAMES)
            session = f"{user}/{t // (86_400 * SECOND)}"
            rows.append((f"e{ids[len(rows)]}", user, session, t, name))
    return rows


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
