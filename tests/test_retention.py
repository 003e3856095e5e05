"""Retention against a brute-force oracle, ClickHouse's retention(), and hand-worked cases."""

from __future__ import annotations

import csv
import itertools
import math
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracles.retention import (
    BASE,
    DAY,
    HOUR,
    NAMES,
    US,
    Row,
    dense_log,
    oracle,
    random_log,
)
from oracles.retention import row_events as events

import journeylib as jl
from journeylib.analyses.retention import retention
from journeylib.display.charts.retention import curve_chart, heatmap_chart
from journeylib.model.cohorts import retention_grid


def as_cells(table: pd.DataFrame) -> dict[tuple[str, int], tuple[int, int, bool, float]]:
    return {
        (str(r.cohort), int(r.period)): (
            int(r.cohort_size),
            int(r.users),
            bool(r.complete),
            round(float(r.revenue), 9),
        )
        for r in table.itertuples()
    }


def rounded(cells: dict) -> dict:
    return {k: (*v[:3], round(v[3], 9)) for k, v in cells.items()}


COMBOS = list(
    itertools.product(
        ["n_day", "unbounded"], ["day", "week", "month"], [False, True], ["first", "recurring"]
    )
)


# ---------------------------------------------------------------------------------------------
# oracle comparisons

#: instants that sit on (or one microsecond beside) day, week, month and rolling boundaries
OFFSETS = [
    timedelta(0),
    US,
    10 * HOUR,
    DAY - US,
    DAY,
    10 * HOUR + DAY,  # exactly 24 h after 10:00
    10 * HOUR + DAY - US,
    3 * DAY - US,  # the last instant of January
    3 * DAY,  # Thu 1 February
    7 * DAY,  # the next Monday
    10 * HOUR + 7 * DAY,  # exactly 7 days after 10:00
    10 * HOUR + 30 * DAY - US,
    10 * HOUR + 30 * DAY,  # exactly 30 days after 10:00
    31 * DAY + 3 * DAY,  # Mon 3 March? no: 1 March is 32 days after BASE
    32 * DAY,  # Fri 1 March (29 days in February)
    32 * DAY - US,
    45 * DAY + 5 * HOUR,
    61 * DAY + 12 * HOUR,
]
STARTS = [None, ["A"], ["A", "B"]]
RETURNING = [None, ["B"], ["A", "C"]]

rows_strategy = st.lists(
    st.tuples(
        st.sampled_from(["u1", "u2", "ü3", "u'4"]),
        st.sampled_from(OFFSETS).map(lambda d: BASE + d),
        st.sampled_from(NAMES),
        st.sampled_from(["Email", "Direct", None]),
        st.sampled_from([None, 1.5, 2.25]),
    ),
    min_size=1,
    max_size=12,
)
relaxed = settings(
    max_examples=6, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


@pytest.mark.parametrize("period", ["day", "week", "month"])
@pytest.mark.parametrize("rolling", [False, True], ids=["calendar", "rolling"])
@relaxed
@given(
    rows=rows_strategy,
    start=st.sampled_from(STARTS),
    returning=st.sampled_from(RETURNING),
    by=st.sampled_from([None, "channel"]),
)
def test_every_kind_and_cohort_matches_the_brute_force_oracle(
    period, rolling, rows, start, returning, by
):
    ev = events(rows)
    by_value = ev.table.channel.cast("string") if by else None
    for kind, cohort in itertools.product(["n_day", "unbounded"], ["first", "recurring"]):
        plan, grid = retention_grid(
            ev,
            starts=start,
            returning=returning,
            period=period,
            kind=kind,
            periods=3,
            rolling=rolling,
            cohort=cohort,
            by_value=by_value,
        )
        assert plan == "portable"  # revenue is wanted
        frame = ev.engine.run(grid)
        expected = oracle(rows, start, returning, period, kind, 3, rolling, cohort, by)
        expected = {k: v for k, v in rounded(expected).items() if k[0] != "overall"}
        assert as_cells(frame) == expected, (kind, cohort)
        # rates are users / cohort_size
        assert (frame.rate == frame.users / frame.cohort_size).all()


@pytest.mark.parametrize("seed", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_public_function_with_overall_rows_matches_the_oracle_on_random_logs(seed):
    rows = random_log(seed)
    ev = events(rows)
    for (kind, period, rolling, cohort), (start, returning) in zip(
        COMBOS, itertools.cycle(itertools.product(STARTS, RETURNING)), strict=False
    ):
        result = retention(
            ev,
            start,
            returning,
            period,
            kind,
            periods=4,
            rolling=rolling,
            cohort=cohort,
            revenue=True,
        )
        expected = rounded(oracle(rows, start, returning, period, kind, 4, rolling, cohort))
        assert as_cells(result.table) == expected, (kind, period, rolling, cohort)
        overall = result.table[result.table.cohort == "overall"]
        for r in overall.itertuples():
            if r.cohort_size:
                assert r.rate == pytest.approx(r.users / r.cohort_size)
            else:
                assert math.isnan(r.rate)


def test_timezone_naive_utc_times_give_the_same_cells():
    rows = random_log(3)
    expected = rounded(oracle(rows, None, ["B"], "week", "n_day", 3, False, "first"))
    for naive in (False, True):
        got = retention(events(rows, naive=naive), returning="B", periods=3, revenue=True)
        assert as_cells(got.table) == expected


# ---------------------------------------------------------------------------------------------
# ClickHouse's retention(c1, ..., cN): r[1] = c1, r[i] = c1 AND ci, each "any row of the group"


def clickhouse_daily(rows: list[Row], start: str, returning: str, periods: int, tmp_path):
    chdb = pytest.importorskip("chdb")
    path = tmp_path / "events.csv"
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user", "t", "e"])
        for user, t, name, _, _ in rows:
            writer.writerow([user, (t - epoch) // US, name])
    source = f"file('{path}', CSVWithNames, 'user String, t Int64, e String')"
    day = 86_400_000_000
    returns = ", ".join(
        f"e = '{returning}' and intDiv(t, {day}) = ds + {k} and t >= t0" for k in range(periods + 1)
    )
    query = (
        "select d0, count() as size, "
        + ", ".join(f"sum(r[{k + 2}])" for k in range(periods + 1))
        + f" from (select user, any(ds) as d0, retention(e = '{start}' and intDiv(t, {day}) = ds,"
        f" {returns}) as r from (select * from {source} as ev inner join"
        f" (select user, min(t) as t0, intDiv(min(t), {day}) as ds from {source}"
        f" where e = '{start}' group by user) as s on ev.user = s.user)"
        f" group by user) group by d0 order by d0"
    )
    out = chdb.query(query, "CSV").bytes().decode()
    cells = {}
    for line in csv.reader(out.splitlines()):
        d0, size, *users = (int(x) for x in line)
        label = (date(1970, 1, 1) + timedelta(days=d0)).isoformat()
        for k, n in enumerate(users):
            cells[(label, k)] = (size, n)
    return cells


@pytest.mark.parametrize(("start", "returning"), [("A", "B"), ("A", "A"), ("B", "C")])
def test_first_time_daily_n_day_equals_clickhouse_retention(start, returning, tmp_path):
    rows = [
        *dense_log(7),
        # returns before the start, at the same instant, and exactly at midnight
        ("t1", BASE + 5 * HOUR, returning, None, None),
        ("t1", BASE + 6 * HOUR, start, None, None),
        ("t1", BASE + 6 * HOUR, returning, None, None),
        ("t1", BASE + DAY, returning, None, None),
        ("t1", BASE + 2 * DAY - US, returning, None, None),
    ]
    expected = clickhouse_daily(rows, start, returning, 5, tmp_path)
    table = retention(events(rows), start, returning, "day", periods=5).table
    got = {
        (r.cohort, r.period): (r.cohort_size, r.users)
        for r in table.itertuples()
        if r.cohort != "overall"
    }
    assert got == expected


# ---------------------------------------------------------------------------------------------
# hand-worked cases


def test_hand_worked_weekly_cohorts_with_incomplete_cells_left_out_of_overall():
    rows: list[Row] = [
        # week of Mon 29 Jan: a, b, c; week of Mon 5 Feb: d
        ("a", BASE + 10 * HOUR, "signup", None, None),
        ("a", BASE + 8 * DAY, "open", None, None),  # week 1
        ("a", BASE + 15 * DAY, "open", None, None),  # week 2
        ("b", BASE + 6 * DAY + 23 * HOUR, "signup", None, None),  # Sunday evening
        ("b", BASE + 7 * DAY, "open", None, None),  # Monday 00:00: already week 1
        ("c", BASE + 2 * DAY, "signup", None, None),  # only one event
        ("d", BASE + 7 * DAY, "signup", None, None),
        ("d", BASE + 6 * DAY, "open", None, None),  # before d's start: never counted
        ("d", BASE + 14 * DAY, "open", None, None),  # week 1 of d's cohort
        ("e", BASE + 18 * DAY, "open", None, None),  # the data ends on Fri 16 Feb
    ]
    result = retention(events(rows), "signup", "open", "week", periods=2)
    table = result.table
    assert list(table.columns) == [
        "cohort",
        "cohort_size",
        "period",
        "users",
        "rate",
        "complete",
    ]
    cells = table[["cohort", "cohort_size", "period", "users", "complete"]].values.tolist()
    assert cells == [
        ["2024-01-29", 3, 0, 0, True],
        ["2024-01-29", 3, 1, 2, True],  # a and b
        ["2024-01-29", 3, 2, 1, False],  # week of 12 Feb has not ended by 16 Feb
        ["2024-02-05", 1, 0, 0, True],
        ["2024-02-05", 1, 1, 1, False],
        ["2024-02-05", 1, 2, 0, False],
        ["overall", 4, 0, 0, True],
        ["overall", 3, 1, 2, True],  # d's incomplete week 1 is left out
        ["overall", 0, 2, 0, False],
    ]
    assert table.rate.tolist()[:6] == [0.0, 2 / 3, 1 / 3, 0.0, 1.0, 0.0]
    assert math.isnan(table.rate.iloc[-1])
    # unbounded: a returned in week 2, so counts in week 1 and 2; b in week 1 only
    unbounded = retention(events(rows), "signup", "open", "week", "unbounded", periods=2).table
    assert unbounded.users.tolist()[:3] == [2, 2, 1]
    assert "select" in result.sql.lower()


def test_period_zero_is_one_for_any_event_and_measured_for_another_returning_event():
    rows: list[Row] = [
        ("a", BASE, "view", None, None),
        ("a", BASE + HOUR, "buy", None, None),
        ("b", BASE + HOUR, "buy", None, None),  # buys before it views: not a return
        ("b", BASE + 2 * HOUR, "view", None, None),
        ("c", BASE + 3 * HOUR, "view", None, None),
        ("z", BASE + 3 * DAY, "view", None, None),
    ]
    ev = events(rows)
    anything = retention(ev, period="day", periods=1).table
    assert anything[anything.period == 0].rate.tolist()[:2] == [1.0, 1.0]
    bought = retention(ev, "view", "buy", "day", periods=1).table
    first = bought[(bought.cohort == "2024-01-29") & (bought.period == 0)]
    assert first[["cohort_size", "users"]].values.tolist() == [[3, 1]]


def test_rolling_windows_start_at_each_persons_first_event():
    rows: list[Row] = [
        ("a", BASE + 22 * HOUR, "open", None, None),
        ("a", BASE + 26 * HOUR, "open", None, None),  # the next calendar day, 4 h later
        ("b", BASE + 1 * HOUR, "open", None, None),
        ("b", BASE + 25 * HOUR, "open", None, None),  # exactly 24 h later: rolling day 1
        ("z", BASE + 10 * DAY, "open", None, None),
    ]
    ev = events(rows)
    calendar = retention(ev, period="day", periods=1).table
    rolling = retention(ev, period="day", periods=1, rolling=True).table
    day_one = (calendar.cohort == "2024-01-29") & (calendar.period == 1)
    assert calendar[day_one].users.tolist() == [2]
    assert rolling[day_one].users.tolist() == [1]  # only b


def test_recurring_cohorts_count_a_person_in_every_period_they_started():
    rows: list[Row] = [
        ("a", BASE, "open", None, None),
        ("a", BASE + 1 * DAY, "open", None, None),
        ("a", BASE + 3 * DAY, "open", None, None),
        ("b", BASE + 1 * DAY, "open", None, None),
        ("z", BASE + 9 * DAY, "open", None, None),
    ]
    ev = events(rows)
    first = retention(ev, period="day", periods=2).table
    recurring = retention(ev, period="day", periods=2, cohort="recurring").table

    def sizes(t: pd.DataFrame) -> dict[str, int]:
        return dict(zip(t.cohort, t.cohort_size, strict=False))

    # z's own day had not ended when the data did: its cells stay out of the overall row
    assert sizes(first) == {"2024-01-29": 1, "2024-01-30": 1, "2024-02-07": 1, "overall": 2}
    assert sizes(recurring)["2024-01-30"] == 2  # a again, and b
    jan30 = recurring[recurring.cohort == "2024-01-30"]
    assert jan30.users.tolist() == [2, 0, 1]  # a comes back two days later


def test_breakdown_by_channel_and_by_a_properties_key(ws, tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(
        "user_id,event_name,event_time,channel,plan\n"
        # naive timestamps are UTC; the first start event's channel is the cohort
        "a,open,2024-01-01 09:00:00,Email,pro\n"
        "a,open,2024-01-02 09:00:00,Direct,pro\n"
        "b,open,2024-01-01 23:59:59,Direct,free\n"
        "b,open,2024-01-03 00:00:00,Email,free\n"
        "c,open,2024-01-02 00:00:00,Email,free\n"
        "z,open,2024-01-09 00:00:00,Paid Search,\n"
    )
    ws.load_events(path)
    table = retention(ws.events(), period="day", periods=2, by="channel").table
    assert list(table.columns[:6]) == [
        "channel",
        "cohort",
        "cohort_size",
        "period",
        "users",
        "rate",
    ]
    email = table[table.channel == "Email"]
    assert email[["cohort_size", "users"]].values.tolist() == [[2, 2], [2, 1], [2, 0]]
    direct = table[table.channel == "Direct"]
    assert direct.users.tolist() == [1, 0, 1]  # b returns on 3 January, two days later
    by_plan = retention(ws.events(), period="day", periods=1, by="plan").table
    assert by_plan[by_plan.period == 0].set_index("plan").cohort_size.to_dict() == {
        "free": 2,
        "pro": 1,
        "(none)": 1,
        "overall": 3,  # z (no plan) started on the last day: its period 0 is incomplete
    }


def test_revenue_sums_returning_events_in_each_period():
    rows: list[Row] = [
        ("a", BASE, "signup", None, None),
        ("a", BASE + HOUR, "purchase", None, 10.0),
        ("a", BASE + DAY, "purchase", None, 5.0),
        ("a", BASE + DAY + HOUR, "purchase", None, 2.5),
        ("b", BASE, "signup", None, None),
        ("b", BASE - HOUR, "purchase", None, 99.0),  # before the start
        ("b", BASE + 2 * DAY, "purchase", None, None),  # no value: counts as a return
        ("z", BASE + 9 * DAY, "other", None, None),
    ]
    table = retention(events(rows), "signup", "purchase", "day", periods=2, revenue=True).table
    cohort = table[table.cohort == "2024-01-29"]
    assert cohort[["users", "revenue"]].values.tolist() == [[1, 10.0], [1, 7.5], [1, 0.0]]
    assert table.columns[-1] == "revenue"


def test_result_charts_matrix_and_period_names():
    rows = random_log(4)
    result = retention(events(rows), period="week", periods=3, with_names=True)
    assert result.table.period_name.tolist()[:4] == ["Week 0", "Week 1", "Week 2", "Week 3"]
    heat = result.chart().to_dict()
    assert [layer["mark"]["type"] for layer in heat["layer"]] == ["rect", "rect", "text"]
    assert heatmap_chart(result).to_dict() == heat
    assert [layer["mark"]["type"] for layer in curve_chart(result).to_dict()["layer"]] == [
        "line",
        "line",
    ]
    matrix = result.extras["matrix"]
    assert list(matrix.columns) == ["cohort", "period_0", "period_1", "period_2", "period_3"]
    assert matrix.cohort.iloc[-1] == "overall"
    assert result.params["period"] == "week"


def test_no_start_events_gives_an_empty_table_with_the_columns():
    rows: list[Row] = [("a", BASE, "view", None, None)]
    table = retention(events(rows), "signup_", periods=2).table
    assert table.empty
    assert list(table.columns) == ["cohort", "cohort_size", "period", "users", "rate", "complete"]


def test_bad_parameters_name_the_allowed_values():
    ev = events([("u", BASE, "purchase", None, None), ("u", BASE + DAY, "view", None, None)])
    with pytest.raises(jl.ParameterError, match=r"Did you mean 'week'"):
        retention(ev, period="weak")
    with pytest.raises(
        jl.ParameterError, match=r"parameter 'kind'.*Allowed values: n_day, unbounded"
    ):
        retention(ev, kind="rolling")
    with pytest.raises(jl.ParameterError, match=r"parameter 'cohort'"):
        retention(ev, cohort="firsttime")
    for bad in (0, -1, 2.5, True, 10_000):
        with pytest.raises(jl.ParameterError, match=r"parameter 'periods'"):
            retention(ev, periods=bad)
    with pytest.raises(jl.ParameterError, match=r"parameter 'rolling'"):
        retention(ev, rolling="yes")
    with pytest.raises(jl.ParameterError, match=r"Did you mean 'purchase'"):
        retention(ev, start="purchse")
    with pytest.raises(jl.ParameterError, match=r"parameter 'returning'"):
        retention(ev, returning="veiw")
    with pytest.raises(jl.ParameterError, match=r"parameter 'start'"):
        retention(ev, start=[])
    with pytest.raises(jl.ParameterError, match=r"parameter 'stages'"):
        retention(ev, start=jl.Stages({"buy": ["purchse"]}))
    with pytest.raises(jl.ParameterError, match=r"parameter 'by'"):
        retention(ev, by="chanel")
    with pytest.raises(jl.ParameterError, match=r"parameter 'by'"):
        retention(ev, by="period")
    # a name unlike any present one is a legitimate zero, not an error
    assert retention(ev, returning="refund").table.users.sum() == 0
    # stages: any event of any stage starts a cohort
    staged = retention(ev, start=jl.Stages({"buy": ["purchase"]}), period="day", periods=1)
    assert staged.table.cohort_size.iloc[0] == 1


def test_a_period_ending_exactly_when_the_data_ends_is_complete():
    rows: list[Row] = [
        ("a", BASE + 10 * HOUR, "open", None, None),
        ("a", BASE + DAY + 10 * HOUR, "open", None, None),
        ("b", BASE + 2 * DAY, "open", None, None),  # the last event: midnight of day 2
    ]
    ev = events(rows)
    calendar = retention(ev, period="day", periods=2).table
    mine = calendar[calendar.cohort == "2024-01-29"]
    assert mine.complete.tolist() == [True, True, False]  # day 1 ended at the last event
    rolling = retention(ev, period="day", periods=2, rolling=True).table
    mine = rolling[rolling.cohort == "2024-01-29"]
    assert mine.complete.tolist() == [True, False, False]  # 10:00 + 48 h is after the end


def test_stage_rules_pick_the_start_and_returning_events(tmp_path):
    # a buys on day 1, day 2 (5) and day 3 (50); b buys on day 1 and day 3 (80); c views only
    path = tmp_path / "buys.csv"
    path.write_text(
        "user_id,event_name,event_time,revenue\n"
        "a,buy,2024-01-01T10:00:00Z,20\na,buy,2024-01-02T10:00:00Z,5\na,buy,2024-01-03T10:00:00Z,50\n"
        "b,buy,2024-01-01T11:00:00Z,30\nb,buy,2024-01-03T11:00:00Z,80\nc,view,2024-01-01T09:00:00Z,\n"
    )
    ws = jl.open()
    ws.load_events(path)
    first = jl.Stages({"first_buy": {"events": ["buy"], "nth": 1}})

    def cells(returning: jl.Stages) -> list[int]:
        table = jl.retention(ws.events(), first, returning, period="day", periods=2).table
        return table[table.cohort == "2024-01-01"].users.tolist()

    # returns worth 40 or more: none on day 2 (a's 5), both on day 3 (50, 80)
    big = jl.Stages({"big_buy": {"events": ["buy"], "where": {"revenue": {">=": 40}}}})
    assert cells(big) == [0, 0, 2]
    # the second purchase: a's on day 2, b's on day 3; the cohort (day 1) is everyone's first buy
    second = jl.Stages({"second_buy": {"events": ["buy"], "nth": 2}})
    assert cells(second) == [0, 1, 1]
