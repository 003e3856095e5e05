"""Segment comparison and personas against plain-Python oracles, planted groups and the sample."""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterator

import pandas as pd
import pytest
from oracles import events as canonical
from scipy.stats import norm

import journeylib as jl
from journeylib import datasets
from journeylib.analyses.personas import personas
from journeylib.comparisons.segments import compare_segments, segment_events

BASE = pd.Timestamp("2024-01-01T00:00:00Z")  # a Monday
WEEK = pd.Timedelta(days=7)


# ------------------------------------------------------------------ a hand-built log


def segment_log() -> list[dict[str, object]]:
    """Email (first event) converts 15/20, Direct 5/20; 5 more people on small channels.

    Starts spread over three weeks, returns over the following weeks, later sessions on
    other channels (the segment is the value at the first event), varied paths.
    """
    rng = random.Random(5)
    rows: list[dict[str, object]] = []
    people = [(f"a{i}", "Email", i < 15) for i in range(20)]
    people += [(f"b{i}", "Direct", i < 5) for i in range(20)]
    people += [(f"c{i}", "Paid Social" if i < 3 else "SMS", i < 1) for i in range(5)]
    for user, channel, buys in people:
        t0 = BASE + pd.Timedelta(hours=rng.randrange(21 * 24), minutes=rng.randrange(60))
        names = ["home", *rng.choice([["view"], ["search", "view"], ["view", "view"]])]
        names += ["buy"] if buys else []
        for j, name in enumerate(names):
            rows.append(
                {
                    "user_id": user,
                    "event_name": name,
                    "event_time": t0 + pd.Timedelta(minutes=5 * j),
                    "channel": channel if j == 0 else None,
                    "session_id": f"{user}-0",
                }
            )
        for visit in range(1, rng.randrange(1, 5)):
            when = t0 + pd.Timedelta(days=rng.randrange(1, 60), minutes=visit)
            rows.append(
                {
                    "user_id": user,
                    "event_name": rng.choice(["home", "view"]),
                    "event_time": when,
                    "channel": "Direct" if channel == "Email" else "Email",
                    "session_id": f"{user}-{visit}",
                }
            )
    return rows


@pytest.fixture(scope="module")
def log() -> list[dict[str, object]]:
    return segment_log()


@pytest.fixture(scope="module")
def events(log: list[dict[str, object]]) -> jl.Events:
    return canonical(log)


@pytest.fixture(scope="module")
def compared(events: jl.Events) -> jl.Result:
    return compare_segments(
        events,
        "channel",
        steps=["home", "view", "buy"],
        within="1d",
        path_steps=3,
        top_paths=4,
        retention_periods=4,
        top=2,
    )


def z_test(x1: int, n1: int, x2: int, n2: int) -> float:
    """The pooled two-proportion z-test written out, p from scipy's normal tail."""
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return float(2 * norm.sf(abs((x1 / n1 - x2 / n2) / se)))


def segments_of(rows: list[dict[str, object]]) -> dict[str, str]:
    """Each person's channel at their first event, Direct and Email kept, the rest other."""
    first: dict[str, tuple[pd.Timestamp, str]] = {}
    for row in rows:
        user, t = str(row["user_id"]), pd.Timestamp(row["event_time"])  # type: ignore[arg-type]
        if user not in first or t < first[user][0]:
            first[user] = (t, str(row["channel"]))
    return {u: c if c in ("Direct", "Email") else "other" for u, (_, c) in first.items()}


def test_funnel_difference_and_p_value_match_the_z_test_by_hand(compared: jl.Result) -> None:
    funnel = compared.view("funnel").table.set_index(["item", "segment"])
    assert list(compared.params["labels"]) == ["Direct", "Email", "other"]  # by size, then name
    buy_email, buy_direct = funnel.loc[("buy", "Email")], funnel.loc[("buy", "Direct")]
    assert (buy_email.users, buy_email.base, buy_email.rate) == (15, 20, 0.75)
    assert (buy_direct.users, buy_direct.base, buy_direct.rate) == (5, 20, 0.25)
    assert buy_email.difference == pytest.approx(0.5)
    # pooled 0.5, se = sqrt(0.25 * (1/20 + 1/20)) = 0.1581, z = 3.162, p = 2 (1 - Phi(z))
    assert buy_email.p_value == pytest.approx(2 * norm.sf(0.5 / math.sqrt(0.025)), rel=1e-9)
    assert buy_email.p_value == pytest.approx(0.001565, abs=1e-6)
    assert bool(buy_email.significant)
    # the reference and the first step carry no test
    assert funnel.loc[("buy", "Direct")].p_value != funnel.loc[("buy", "Direct")].p_value
    assert funnel.xs("home", level="item").p_value.isna().all()
    other = funnel.loc[("buy", "other")]
    assert (other.users, other.base) == (1, 5)


def test_paths_match_a_plain_python_oracle(
    compared: jl.Result, log: list[dict[str, object]]
) -> None:
    segment = segments_of(log)
    events: dict[str, list[tuple[pd.Timestamp, str]]] = defaultdict(list)
    for row in log:
        events[str(row["user_id"])].append(
            (pd.Timestamp(row["event_time"]), str(row["event_name"]))
        )  # type: ignore[arg-type]
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for user, seq in events.items():
        names = [name for _, name in sorted(seq)]
        collapsed = [n for i, n in enumerate(names) if i == 0 or names[i - 1] != n]
        counts[segment[user]][" > ".join(collapsed[:3])] += 1
    totals = Counter[str]()
    for per in counts.values():
        totals.update(per)
    top = sorted(totals, key=lambda p: (-totals[p], p))[:4]
    paths = compared.view("paths").table
    assert list(dict.fromkeys(paths.item)) == top
    for label in ["Direct", "Email", "other"]:
        base = sum(counts[label].values())
        mine = paths[paths.segment == label].set_index("item")
        for path in top:
            assert mine.loc[path, "users"] == counts[label][path]
            assert mine.loc[path, "base"] == base
            assert mine.loc[path, "rate"] == pytest.approx(counts[label][path] / base)
    ref = paths[paths.segment == "Direct"].set_index("item")
    for _, row in paths[paths.segment != "Direct"].iterrows():
        x2, n2 = int(ref.loc[row["item"], "users"]), int(ref.loc[row["item"], "base"])
        assert row["p_value"] == pytest.approx(z_test(row["users"], row["base"], x2, n2))


def test_retention_matches_a_plain_python_oracle(
    compared: jl.Result, log: list[dict[str, object]]
) -> None:
    segment = segments_of(log)
    times: dict[str, list[pd.Timestamp]] = defaultdict(list)
    for row in log:
        times[str(row["user_id"])].append(pd.Timestamp(row["event_time"]))  # type: ignore[arg-type]
    # each segment's data ends at its own last event (as jl.retention on its events)
    ends = {
        label: max(t for u, ts in times.items() if segment[u] == label for t in ts)
        for label in set(segment.values())
    }
    expected = {}
    for label in ["Direct", "Email", "other"]:
        for k in range(1, 5):
            users = base = 0
            for user, ts in times.items():
                if segment[user] != label:
                    continue
                t0 = min(ts)
                anchor = (t0 - pd.Timedelta(days=t0.weekday())).normalize()
                if anchor + (k + 1) * WEEK > ends[label]:
                    continue  # incomplete: the period had not ended with the data
                base += 1
                users += any(anchor + k * WEEK <= t < anchor + (k + 1) * WEEK for t in ts)
            expected[(f"week {k}", label)] = (users, base)
    table = compared.view("retention").table
    got = {(r.item, r.segment): (r.users, r.base) for r in table.itertuples()}
    assert got == expected
    assert any(base for _, base in expected.values())
    for r in table.itertuples():
        if r.segment != "Direct" and r.base:
            ref_users, ref_base = expected[(r.item, "Direct")]
            assert r.p_value == pytest.approx(z_test(r.users, r.base, ref_users, ref_base))


def test_q_values_are_benjamini_hochberg_over_the_whole_table(compared: jl.Result) -> None:
    table = compared.table
    assert list(table.columns) == [
        "analysis",
        "item",
        "segment",
        "users",
        "base",
        "rate",
        "difference",
        "p_value",
        "q_value",
        "significant",
    ]
    assert set(table.analysis) == {"funnel", "paths", "retention"}
    tested = table[table.p_value.notna()]
    p = sorted(tested.p_value)
    m = len(p)
    by_hand = [min(min(p[j] * m / (j + 1) for j in range(i, m)), 1.0) for i in range(m)]
    assert sorted(tested.q_value) == pytest.approx(by_hand)
    assert (table.significant == (table.q_value < 0.05)).all()
    assert table[table.p_value.isna()].q_value.isna().all()


def test_people_segment_by_their_first_event_and_small_values_fold(compared: jl.Result) -> None:
    sizes = compared.extras["segments"].set_index("segment").people.to_dict()
    assert sizes == {"Direct": 20, "Email": 20, "other": 5}
    assert compared.params["segments"] == "channel"


def test_sql_holds_every_query_and_runs(compared: jl.Result, events: jl.Events) -> None:
    sql = str(compared.sql)
    for label in ["funnel of segment Direct", "paths by segment", "retention by segment"]:
        assert f"-- {label}" in sql
    assert len(compared.sql.queries) == 3 + 2  # a funnel per segment, paths, retention
    statements = sql.split(";\n\n")
    assert len(statements) == 5
    paths = events.engine.con.execute(statements[3]).df()
    bases = paths[paths.path.isna()].set_index("segment").users.to_dict()
    assert bases == {"Direct": 20, "Email": 20, "other": 5}


def test_retention_rows_equal_retention_of_each_segment(
    compared: jl.Result, events: jl.Events
) -> None:
    groups, _ = segment_events(events, "channel", top=2)
    mine = compared.view("retention").table
    for label, segment in groups.items():
        overall = jl.retention(segment, period="week", periods=4).table
        overall = overall[(overall.cohort == "overall") & (overall.period >= 1)]
        rows = mine[mine.segment == label]
        assert rows.users.tolist() == overall.users.tolist()
        assert rows.base.tolist() == overall.cohort_size.tolist()


def test_charts_and_views_draw(compared: jl.Result) -> None:
    spec = compared.chart().to_dict()
    assert spec["facet"]["row"]["field"] == "analysis"
    for name in ["funnel", "paths", "retention"]:
        view = compared.view(name)
        assert set(view.table.analysis) == {name}
        assert view.chart().to_dict()["facet"]["row"]["field"] == "analysis"


def test_saved_filters_may_overlap(log: list[dict[str, object]]) -> None:
    ev = canonical(log)
    everyone, bought = ev, ev.where(lambda t: t.user_id.isin([f"a{i}" for i in range(15)]))
    result = compare_segments(
        ev,
        {"all": everyone, "buyers": bought},
        steps=["home", "buy"],
        within="1d",
        retention_periods=1,
    )
    assert result.extras["segments"].people.tolist() == [45, 15]
    funnel = result.view("funnel").table.set_index(["item", "segment"])
    assert funnel.loc[("buy", "all"), "users"] == 21
    assert funnel.loc[("buy", "buyers"), "rate"] == 1.0
    assert funnel.loc[("buy", "buyers"), "p_value"] == pytest.approx(z_test(15, 15, 21, 45))


def test_bad_segments_name_the_problem(log: list[dict[str, object]]) -> None:
    ev = canonical(log)
    with pytest.raises(jl.ParameterError, match="Did you mean 'channel'"):
        compare_segments(ev, "chanel", steps=["home", "buy"])
    with pytest.raises(jl.ParameterError, match="two or more"):
        compare_segments(ev, {"only": ev}, steps=["home", "buy"])
    with pytest.raises(jl.ParameterError, match="two or more segments"):
        compare_segments(ev.where(user_id=["a1", "a2"]), "channel", steps=["home", "buy"])
    with pytest.raises(jl.ParameterError, match="retention_period"):
        compare_segments(ev, "channel", steps=["home", "buy"], retention_period="fortnight")
    with pytest.raises(jl.ParameterError, match="paths_from"):
        compare_segments(ev, "channel", steps=["home", "buy"], paths_from="hom")


# ------------------------------------------------------------------ personas


def planted_log() -> list[dict[str, object]]:
    """30 people who go through all five stages within minutes via Email (and answer NPS a day
    later in another Email session); 30 who only look around via Paid Social."""
    rows: list[dict[str, object]] = []

    def add(user: str, session: str, t: pd.Timestamp, name: str, channel: str | None) -> None:
        rows.append(
            {
                "user_id": user,
                "event_name": name,
                "event_time": t,
                "channel": channel,
                "session_id": session,
            }
        )

    for i in range(30):
        user, t0 = f"fan{i:02d}", BASE + pd.Timedelta(hours=7 * i)
        steps = ["session_start", "page_view", "view_item", "add_to_cart", "begin_checkout"]
        for j, name in enumerate([*steps, "purchase"]):
            add(
                user,
                f"{user}-1",
                t0 + pd.Timedelta(minutes=2 * j),
                name,
                "Email" if j == 0 else None,
            )
        add(user, f"{user}-2", t0 + pd.Timedelta(days=1), "session_start", "Email")
        add(user, f"{user}-2", t0 + pd.Timedelta(days=1, minutes=1), "nps_response", None)
    for i in range(30):
        user, t0 = f"skim{i:02d}", BASE + pd.Timedelta(hours=5 * i + 1)
        add(user, f"{user}-1", t0, "session_start", "Paid Social")
        add(user, f"{user}-1", t0 + pd.Timedelta(minutes=1 + i % 4), "page_view", None)
        if i % 3 == 0:
            add(user, f"{user}-2", t0 + pd.Timedelta(days=2), "session_start", "Paid Social")
    return rows


@pytest.fixture(scope="module")
def planted() -> jl.Events:
    return canonical(planted_log())


def test_personas_recover_planted_groups_and_describe_them(planted: jl.Events) -> None:
    result = personas(planted, k=2, seed=0)
    members = result.extras["members"]
    groups = {p: set(members[members.persona == p].user_id) for p in (1, 2)}
    fans = {f"fan{i:02d}" for i in range(30)}
    skims = {f"skim{i:02d}" for i in range(30)}
    assert sorted(groups.values(), key=min) == [fans, skims]
    table = result.table.set_index("persona")
    fan = 1 if groups[1] == fans else 2
    skim = 3 - fan
    assert table.loc[fan, "people"] == 30 and table.loc[fan, "share"] == 0.5
    assert table.loc[fan, "conversion_rate"] == 1.0
    assert table.loc[skim, "conversion_rate"] == 0.0
    assert table.loc[fan, "mean_furthest_stage"] == 5.0
    assert table.loc[skim, "mean_furthest_stage"] == 1.0
    assert table.loc[fan, "median_hours_to_convert"] == pytest.approx(10 / 60)
    assert table.loc[fan, "mean_sessions"] == 2.0
    assert table.loc[skim, "mean_sessions"] == pytest.approx(40 / 30)
    assert (table.loc[fan, "top_channel"], table.loc[fan, "top_channel_share"]) == ("Email", 1.0)
    assert table.loc[skim, "top_channel"] == "Paid Social"
    assert "Email (100%)" in table.loc[fan, "description"]
    assert "reach purchase 2.0x as often" in table.loc[fan, "description"]
    assert "Paid Social (100%)" in table.loc[skim, "description"]
    assert "never reach purchase" in table.loc[skim, "description"]
    # per-person features: awareness (session_start) to consideration (view_item) is 4 minutes
    fan00 = members.set_index("user_id").loc["fan00"]
    assert fan00.hours_awareness == pytest.approx(4 / 60)
    assert fan00.furthest_stage == 5 and fan00.share_Email == 1.0
    assert result.chart().to_dict()["layer"][0]["mark"]["type"] == "rect"
    assert "select" in result.sql.lower()


def test_personas_are_deterministic_for_a_seed(planted: jl.Events) -> None:
    first, again = personas(planted, k=3, seed=7), personas(planted, k=3, seed=7)
    pd.testing.assert_frame_equal(first.table, again.table)
    pd.testing.assert_frame_equal(first.extras["members"], again.extras["members"])
    # three personas split one planted group, never mix the two
    kinds = first.extras["members"].groupby("persona").user_id.apply(lambda u: u.str[:3].nunique())
    assert kinds.eq(1).all()


def test_bad_k_is_a_parameter_error(planted: jl.Events) -> None:
    for k in (1, 13, 2.5, True):
        with pytest.raises(jl.ParameterError, match="'k'"):
            personas(planted, k=k)  # type: ignore[arg-type]
    few = planted.where(user_id=["fan00", "skim01", "skim02"])
    with pytest.raises(jl.ParameterError, match="Only 3 people"):
        personas(few, k=4)
    with pytest.raises(jl.ParameterError, match="conversion_stage"):
        personas(planted, k=2, conversion_stage="purchse")


# ------------------------------------------------------------------ the sample


@pytest.fixture(scope="module")
def sample() -> Iterator[jl.Workspace]:
    ws = jl.open()
    datasets.load_sample(ws)
    yield ws
    ws.close()


def test_sample_mobile_checkout_drop_is_significant(sample: jl.Workspace) -> None:
    result = compare_segments(
        sample.events(),
        "properties.device.category",
        steps=["begin_checkout", "add_payment_info"],
        within="1d",
        top_paths=3,
        retention_periods=1,
    )
    funnel = result.view("funnel").table.set_index(["item", "segment"])
    assert result.params["labels"][0] == "desktop"  # the largest segment is the reference
    mobile = funnel.loc[("add_payment_info", "mobile")]
    desktop = funnel.loc[("add_payment_info", "desktop")]
    assert desktop.rate > 0.9 and mobile.rate < 0.7  # data/README.md, story 1
    assert bool(mobile.significant) and mobile.q_value < 1e-10
    assert not bool(funnel.loc[("add_payment_info", "tablet")].significant)
