"""Transitions (the directly-follows graph) against a brute-force oracle and hand-worked cases.

Times: the engine's median and p95 interpolate linearly between the order
statistics of each edge's times, which is ``numpy.quantile``'s default
``method="linear"`` (and DuckDB's ``quantile_cont``); the oracle uses numpy, and
the comparison allows only floating-point rounding. Times carry microseconds; durations are measured to the
millisecond (the same on every engine), so the oracle truncates each time to the millisecond.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import vl_convert
from oracles import SECOND
from oracles.paths import events, random_log, sequences, simple
from oracles.transitions import MILLI, oracle

from journeylib.analyses.transitions import COLUMNS, transitions
from journeylib.core.errors import ParameterError
from journeylib.display.charts.paths import transition_graph_chart, transition_matrix_chart
from journeylib.model.labels import END, START


def as_dict(table: pd.DataFrame) -> dict[tuple[str, str], dict]:
    out = {}
    for rec in table.to_dict("records"):
        edge = (rec.pop("source"), rec.pop("target"))
        assert edge not in out
        out[edge] = {k: (None if pd.isna(v) else v) for k, v in rec.items()}
    return out


def assert_same(got: dict, want: dict) -> None:
    assert got.keys() == want.keys()
    for edge, expected in want.items():
        for key, value in expected.items():
            if value is None:
                assert got[edge][key] is None, (edge, key)
            elif isinstance(value, float):
                assert got[edge][key] == pytest.approx(value, rel=1e-9, abs=1e-6), (edge, key)
            else:
                assert got[edge][key] == value, (edge, key)


CASES = [
    {"unit": "user", "collapse_repeats": False, "rename": None},
    {"unit": "session", "collapse_repeats": True, "rename": None},
    {"unit": "user", "collapse_repeats": True, "rename": {"^vi": "v*", "o'q": "quote"}},
]


@pytest.mark.parametrize("seed", range(8))
def test_transitions_match_the_oracle(seed):
    rows = random_log(300 + seed)
    ev = events(rows)
    options = CASES[seed % len(CASES)]
    seqs = sequences(rows, options["unit"], options["collapse_repeats"], options["rename"])
    for endpoints, min_count in [(False, 1), (True, 2)]:
        result = transitions(ev, endpoints=endpoints, min_count=min_count, **options)
        assert result.table.columns.tolist() == COLUMNS
        assert_same(as_dict(result.table), oracle(seqs, endpoints, min_count))
        # sorted by count, then source and target
        keys = [(-c, s, t) for c, s, t in result.table[["count", "source", "target"]].values]
        assert keys == sorted(keys)
        if min_count == 1 and len(result.table):
            # edges out of a node sum to 1, and so do edges into one
            assert result.table.groupby("source").probability_out.sum().tolist() == pytest.approx(
                [1.0] * result.table.source.nunique()
            )
            assert result.table.groupby("target").probability_in.sum().tolist() == pytest.approx(
                [1.0] * result.table.target.nunique()
            )


def test_transitions_hand_worked():
    half = SECOND // 2
    rows = [
        # u: a b a b (gaps 1 s, 2.5 s, 10 s); the two events at 13.5 s tie, e4 before e5
        ("e1", "u", "s", 0, "a"),
        ("e2", "u", "s", 1 * SECOND, "b"),
        ("e3", "u", "s", 3 * SECOND + half, "a"),
        ("e4", "u", "s", 13 * SECOND + half, "b"),
        ("e5", "u", "s", 13 * SECOND + half, "c"),
        # v: a b c (gaps 4 s, 0 s)
        ("f1", "v", "t", 0, "a"),
        ("f2", "v", "t", 4 * SECOND, "b"),
        ("f3", "v", "t", 4 * SECOND, "c"),
        # w: a single event, no transition
        ("g1", "w", "x", 0, "a"),
    ]
    r = transitions(events(rows))
    assert r.table.values.tolist() == [
        # a->b: gaps 1, 10, 4 -> median 4; p95 = 4 + 0.9 * (10 - 4) = 9.4
        ["a", "b", 3, 2, 1.0, 1.0, 4.0, pytest.approx(9.4)],
        # b->c: gaps 0, 0
        ["b", "c", 2, 2, 2 / 3, 1.0, 0.0, 0.0],
        ["b", "a", 1, 1, 1 / 3, 1.0, 2.5, 2.5],
    ]
    assert r.extras["nodes"].values.tolist() == [
        ["a", 4, 3, (1 + 3 + 1 + 1) / 4],
        ["b", 3, 2, (2 + 4 + 2) / 3],
        ["c", 2, 2, (5 + 3) / 2],
    ]
    assert r.extras["matrix"].columns.tolist() == ["source", "a", "b", "c"]
    r = transitions(events(rows), min_count=2, endpoints=True)
    assert r.table[["source", "target", "count", "probability_out"]].values.tolist() == [
        [START, "a", 3, 1.0],
        ["a", "b", 3, 0.75],
        ["b", "c", 2, 2 / 3],
        ["c", END, 2, 1.0],
    ]
    assert r.table.median_seconds.isna().tolist() == [True, False, False, True]


def test_quantiles_of_many_tied_and_few_times():
    """Edges made 1, 2, 3, 7, 20 and 21 times, with tied gaps: numpy's linear quantiles."""
    rng = np.random.default_rng(7)
    rows, want = [], {}
    for n in (1, 2, 3, 7, 20, 21):
        gaps = [int(g) for g in rng.choice([0, 250, 1500, 1500, 60_000, 3_600_000], n)]
        for k, gap in enumerate(gaps):
            unit = f"u{n}_{k}"
            rows.append((f"{unit}a", unit, unit, 0, f"x{n}"))
            rows.append((f"{unit}b", unit, unit, gap * MILLI, f"y{n}"))
        seconds = np.array(gaps) / 1000
        want[(f"x{n}", f"y{n}")] = (np.quantile(seconds, 0.5), np.quantile(seconds, 0.95))
    table = transitions(events(rows)).table.set_index(["source", "target"])
    assert len(table) == len(want)
    for edge, (median, p95) in want.items():
        assert table.loc[edge, "median_seconds"] == pytest.approx(median, rel=1e-12)
        assert table.loc[edge, "p95_seconds"] == pytest.approx(p95, rel=1e-12)


def test_collapse_and_rename():
    ev = events(simple({"u": "view_1 view_2 view_1 buy buy"}))
    r = transitions(ev, rename={"^view": "view"})
    assert r.table[["source", "target", "count"]].values.tolist() == [
        ["view", "view", 2],
        ["buy", "buy", 1],
        ["view", "buy", 1],
    ]
    r = transitions(ev, rename={"^view": "view"}, collapse_repeats=True)
    assert r.table[["source", "target", "count", "median_seconds"]].values.tolist() == [
        ["view", "buy", 1, 3.0]  # from the first view of the run to the first buy
    ]


def test_bad_parameters():
    ev = events(simple({"u": "a b"}))
    with pytest.raises(ParameterError, match="min_count"):
        transitions(ev, min_count=0)
    with pytest.raises(ParameterError, match="unit"):
        transitions(ev, unit="device")
    with pytest.raises(ParameterError, match="rename"):
        transitions(ev, rename={"[": "x"})
    with pytest.raises(ParameterError, match="endpoints"):
        transitions(ev, endpoints="yes")
    empty = transitions(events(simple({"u": "a"})))
    assert empty.table.empty and empty.table.columns.tolist() == COLUMNS


def test_charts_render_offline():
    r = transitions(events(random_log(5) + simple({"z": "home view cart buy"})), endpoints=True)
    for chart in (
        r.chart(),
        transition_graph_chart(r, layout="circle"),
        transition_matrix_chart(r),
    ):
        assert "<svg" in vl_convert.vegalite_to_svg(chart.to_dict())
    assert "LEAD" in r.sql.upper()


def test_duckdb_seconds_are_the_portable_seconds_exactly():
    """DuckDB's integer-microsecond durations equal ``elapsed_seconds`` bit for bit."""
    import ibis

    from journeylib.analyses.transitions import _seconds
    from journeylib.core.durations import epoch_us

    rng = np.random.default_rng(3)
    base = pd.Timestamp("1969-12-31 23:59:58", tz="UTC")
    starts = [base + pd.Timedelta(microseconds=int(u)) for u in rng.integers(0, 4 * 10**6, 300)]
    starts += [pd.Timestamp("2024-03-31 00:59:59.999999", tz="UTC")] * 2
    gaps = [pd.Timedelta(microseconds=int(u)) for u in rng.integers(0, 10**8, len(starts))]
    table = ibis.memtable(
        {"t": starts, "t_next": [s + g for s, g in zip(starts, gaps, strict=True)]}
    )
    as_us = table.mutate(us=epoch_us(table.t), us_next=epoch_us(table.t_next))
    con = ibis.duckdb.connect()
    con.raw_sql("SET TimeZone = 'UTC'")
    portable = con.execute(table.select(s=_seconds(table))).s.tolist()
    native = con.execute(as_us.select(s=_seconds(as_us))).s.tolist()
    assert native == portable
    truncated = [
        (g + s).floor("ms").value / 1e9 - s.floor("ms").value / 1e9
        for s, g in zip(starts, gaps, strict=True)
    ]
    assert native == pytest.approx(truncated, abs=1e-6)


def test_one_query_gives_the_edges_and_the_nodes():
    """The node table comes from the same query (and the same window pass) as the edges."""
    r = transitions(events(random_log(11)), endpoints=True)
    assert r.sql.upper().count("LEAD(") == 2  # the event and the time, in one window
    assert "ROW_NUMBER" in r.sql.upper()
    nodes = r.extras["nodes"]
    assert nodes.node.iloc[0] == START and nodes.node.iloc[-1] == END
    inner = nodes[~nodes.node.isin([START, END])]
    out = r.table[r.table.target != END].groupby("source")["count"].sum()
    ends = r.table[r.table.target == END].set_index("source")["count"]
    for node, occurrences in zip(inner.node, inner.occurrences, strict=True):
        assert occurrences == out.get(node, 0) + ends.get(node, 0)
