"""Paths built in the engine from events: a hand-worked golden case and a plain-Python oracle."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from oracles import events as canonical
from oracles.attribution import oracle

import journeylib as jl
from journeylib.analyses.attribution import attribution
from journeylib.core.errors import DataError, ParameterError

GOLDEN = Path(__file__).parents[1] / "golden" / "attribution"


@pytest.fixture(scope="module")
def golden() -> jl.Events:
    return jl.read_events(GOLDEN / "events.csv")


def summary(result: jl.Result) -> dict[str, tuple[float, float, float]]:
    paths = result.extras["paths"]
    return {
        p: (c, n, v)
        for p, c, n, v in zip(paths.path, paths.conversions, paths.nulls, paths.value, strict=True)
    }


def credits(result: jl.Result, model: str, column: str = "conversions") -> dict[str, float]:
    rows = result.table[result.table.model == model]
    return {c: float(v) for c, v in zip(rows.channel, rows[column], strict=True) if v}


def test_golden_paths_by_hand(golden: jl.Events) -> None:
    result = attribution(golden, lookback="7d", models=["linear"])
    # tests/golden/attribution/README.md works these out
    assert summary(result) == {
        "Email > Paid Search > Direct": (1, 0, 120.0),
        "Email": (1, 0, 80.0),
        "Paid Social > Paid Social": (1, 0, 50.0),
        "(direct)": (2, 0, 40.0),
        "Email > Organic Search": (0, 1, 0.0),
    }


def test_golden_models_by_hand(golden: jl.Events) -> None:
    result = attribution(golden, lookback="7d")
    assert credits(result, "first_touch") == {"Email": 2, "Paid Social": 1, "(direct)": 2}
    assert credits(result, "first_touch", "revenue") == {
        "Email": 200,
        "Paid Social": 50,
        "(direct)": 40,
    }
    assert credits(result, "last_touch") == {
        "Direct": 1,
        "Email": 1,
        "Paid Social": 1,
        "(direct)": 2,
    }
    # the last touch of path 1 that is not direct is Paid Search; (direct) stays with (direct)
    assert credits(result, "last_non_direct", "revenue") == {
        "Paid Search": 120,
        "Email": 80,
        "Paid Social": 50,
        "(direct)": 40,
    }
    # linear: path 1 gives 1/3 (40 revenue) to each of its three touches
    assert credits(result, "linear") == pytest.approx(
        {"Email": 4 / 3, "Paid Search": 1 / 3, "Direct": 1 / 3, "Paid Social": 1, "(direct)": 2}
    )
    # time decay, half-life 168 h. Path 1 ages: Email 95.5 h (03-01 09:00 -> 03-05 08:30),
    # Paid Search 44 h 29 min, Direct 0.5 h; weight 2^(-age/168), normalised
    weights = {
        "Email": 2 ** (-95.5 / 168),
        "Paid Search": 2 ** (-(44 + 29 / 60) / 168),
        "Direct": 2 ** (-0.5 / 168),
    }
    total = sum(weights.values())
    expected = {c: w / total for c, w in weights.items()}
    expected["Email"] += 1  # purchase 2 has one touch
    expected |= {"Paid Social": 1, "(direct)": 2}
    assert credits(result, "time_decay") == pytest.approx(expected, abs=1e-9)
    revenue = credits(result, "time_decay", "revenue")
    assert revenue["Paid Search"] == pytest.approx(120 * weights["Paid Search"] / total)
    assert result.extras["checks"].ok.all()
    assert result.extras["checks"].expected_conversions.unique().tolist() == [5.0]
    assert result.extras["checks"].expected_revenue.unique().tolist() == [290.0]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (  # consecutive repeats collapse
            {"transform": "exposure"},
            {"Paid Social": (1, 0, 50.0)},
        ),
        (
            {"transform": "first"},
            {"Paid Social": (1, 0, 50.0)},
        ),
        (
            {"transform": "frequency"},
            {"Paid Social(2)": (1, 0, 50.0), "Email(1)": (1, 0, 80.0)},
        ),
        (  # Direct leaves path 1; (direct) alone stays
            {"drop_direct": True},
            {"Email > Paid Search": (1, 0, 120.0), "(direct)": (2, 0, 40.0)},
        ),
        (  # the last touch before each conversion
            {"lookback_steps": 1},
            {"Direct": (1, 0, 120.0), "Paid Social": (1, 0, 50.0), "Organic Search": (0, 1, 0.0)},
        ),
        (
            {"max_steps": 2, "transform": "exposure"},
            {"Paid Search > Direct": (1, 0, 120.0), "Paid Social": (1, 0, 50.0)},
        ),
        (  # every event with a channel: u1's second channel in session s2 counts
            {"touchpoint": "event"},
            {"Email > Paid Search > Email > Direct": (1, 0, 120.0)},
        ),
        (  # 1 day: path 1 keeps Direct only, u2 the later Paid Social; u4 has no touch left
            {"lookback": "1d"},
            {"Direct": (1, 0, 120.0), "Paid Social": (1, 0, 50.0), "Email": (1, 0, 80.0)},
        ),
    ],
)
def test_golden_path_options(golden: jl.Events, options: dict, expected: dict) -> None:
    options = {"lookback": "7d", **options}
    paths = summary(attribution(golden, models=["linear"], **options))
    for path, row in expected.items():
        assert paths[path] == row
    if options["lookback"] == "1d":
        assert paths == {**expected, "(direct)": (2, 0, 40.0)}


def test_frequency_credit_goes_back_to_channels(golden: jl.Events) -> None:
    result = attribution(golden, lookback="7d", models=["linear"], transform="frequency")
    # Paid Social(2) is Paid Social: first occurrences only, then the label is dropped
    assert credits(result, "linear") == pytest.approx(
        {"Email": 4 / 3, "Paid Search": 1 / 3, "Direct": 1 / 3, "Paid Social": 1, "(direct)": 2}
    )


def test_sql_is_the_path_summary_and_runs(golden: jl.Events) -> None:
    result = attribution(golden, lookback="7d", models=["linear"])
    rerun = golden.engine.frame(str(result.sql))
    assert sorted(rerun.conversions.tolist()) == [0, 1, 1, 1, 2]
    # the portable plan has no ordered aggregate (Spark has none): structs collected, then sorted
    sql = str(result.sql).lower()
    calls = [aggregate_call(sql, m.end()) for m in re.finditer(r"array_agg\(", sql)]
    assert calls
    assert not any("order by" in call for call in calls)


def aggregate_call(sql: str, start: int) -> str:
    """The text inside the parentheses opened just before ``start``."""
    depth = 1
    for end in range(start, len(sql)):
        depth += {"(": 1, ")": -1}.get(sql[end], 0)
        if depth == 0:
            return sql[start:end]
    return sql[start:]


def test_event_route_parameter_errors(golden: jl.Events) -> None:
    with pytest.raises(ParameterError, match="transform"):
        attribution(golden, transform="uniq")
    with pytest.raises(ParameterError, match="lookback_steps"):
        attribution(golden, lookback_steps=0)
    with pytest.raises(ParameterError, match="touchpoint"):
        attribution(golden, touchpoint="visit")
    with pytest.raises(ParameterError, match="lookback"):
        attribution(golden, lookback="7")


# --- a plain-Python oracle for the path builder --------------------------------------

HOUR = 3_600_000_000
BASE = pd.Timestamp("2024-01-01T00:00:00Z")


def events_from(rows: list[tuple]) -> jl.Events:
    """Canonical events from (user, hour, name, session, channel, revenue) rows."""
    return canonical(
        {
            "user_id": u,
            "event_time": BASE + pd.Timedelta(hours=h),
            "event_name": n,
            "session_id": s,
            "channel": c,
            "revenue": r,
        }
        for u, h, n, s, c, r in rows
    )


EVENT_ROWS = st.lists(
    st.tuples(
        st.sampled_from(["u1", "u2", "u3"]),
        st.integers(0, 60),
        st.sampled_from(["page_view", "page_view", "purchase"]),
        st.sampled_from(["s1", "s2", "s3", None]),
        st.sampled_from(["A", "B", "Direct", None]),
        st.sampled_from([None, 5.0, 12.5]),
    ),
    min_size=1,
    max_size=14,
)
OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "lookback_hours": st.sampled_from([6, 24]),
        "touchpoint": st.just("event"),
        "lookback_steps": st.integers(1, 3),
        "drop_direct": st.booleans(),
        "transform": st.sampled_from(["unique", "exposure", "first", "frequency"]),
        "max_steps": st.integers(1, 3),
    },
)


@settings(phases=[Phase.explicit, Phase.generate])  # shrinking engine runs takes minutes
@given(EVENT_ROWS, OPTIONS)
def test_engine_paths_equal_python_oracle(rows, options) -> None:
    # sessions belong to one person: prefix them with the user
    rows = [(u, h, n, f"{u}-{s}" if s else None, c, r) for u, h, n, s, c, r in rows]
    hours = options.get("lookback_hours")
    arguments = {k: v for k, v in options.items() if k != "lookback_hours"}
    if any(r[2] == "purchase" for r in rows) and all(r[4] in (None, "Direct") for r in rows):
        # no event says where anyone came from: every model would credit Direct alone
        with pytest.raises(DataError, match="every touch is Direct"):
            attribution(events_from(rows), models=["linear"], **arguments)
        return
    result = attribution(
        events_from(rows),
        lookback=f"{hours}h" if hours else None,
        models=["linear"],
        **arguments,
    )
    assert summary(result) == oracle(rows, options)
    assert result.extras["checks"].ok.all()


def test_w_shaped_from_crm_milestones_by_hand() -> None:
    ev = jl.read_events(GOLDEN / "crm_events.csv")
    result = attribution(ev, models=["w_shaped", "first_touch"])
    # tests/golden/attribution/README.md: w1 .3/.3+.1/3/.3/.1/3/.1/3, w2 Email 1,
    # w3 Display .75 Email .25, w4 Referral .75 Email .25
    third = 0.1 / 3
    assert credits(result, "w_shaped") == pytest.approx(
        {
            "Paid Social": 0.3,
            "Email": 0.3 + third + 1 + 0.25 + 0.25,
            "Organic Search": 0.3,
            "Paid Search": third,
            "Direct": third,
            "Display": 0.75,
            "Referral": 0.75,
        },
        abs=1e-9,
    )
    assert credits(result, "w_shaped", "revenue") == pytest.approx(
        {
            "Paid Social": 300.0,
            "Email": 1000 * (0.3 + third) + 100 + 12.5 + 5,
            "Organic Search": 300.0,
            "Paid Search": 1000 * third,
            "Direct": 1000 * third,
            "Display": 37.5,
            "Referral": 15.0,
        },
        abs=1e-6,
    )
    assert result.extras["checks"].ok.all()
    with pytest.raises(ParameterError, match="w_shaped needs touch times"):
        attribution(result.extras["paths"], models=["w_shaped"])
