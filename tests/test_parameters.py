"""Every public analysis refuses a bad value of each enumerated parameter with a ParameterError
that names the parameter, lists the allowed values and suggests the closest (issue #28).

A bad value is a near miss ("users" for "user", "previous" for "previous_step"),
the kind that used to pass silently and mean the default.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest
from analysis_calls import one_call_each
from oracles import BASE
from oracles import events as canonical

import journeylib as jl
from journeylib.core.sql import SQL
from journeylib.display.registry import ANALYSES

STEPS = ["view", "cart", "buy"]


@pytest.fixture(scope="module")
def ev() -> jl.Events:
    rows = []
    for i, user in enumerate(["a", "b", "c", "d"]):
        for k, name in enumerate([*STEPS, "purchase"][: 2 + i % 3]):
            rows.append(
                {
                    "user_id": user,
                    "session_id": f"{user}-1",
                    "event_time": BASE + pd.Timedelta(hours=i, minutes=5 * k),
                    "event_name": name,
                    "channel": "Email" if k == 0 else None,
                }
            )
    return canonical(rows)


STAGES = jl.Stages({"look": ["view"], "want": ["cart"], "purchase": ["buy"]})

#: (analysis, how to call it with one keyword changed, parameter, bad value, suggestion)
CASES: list[tuple[str, Callable[..., object], str, object, str | None]] = []


def case(name: str, call: Callable[..., object], param: str, bad: object, near: str | None):
    CASES.append((name, call, param, bad, near))


for param, bad, near in [
    ("mode", "orderd", "ordered"),
    ("unit", "users", "user"),
    ("window_from", "previous", "previous_step"),
]:
    case("funnel", lambda ev, **kw: jl.funnel(ev, STEPS, "1d", **kw), param, bad, near)
    case(
        "time_to_convert",
        lambda ev, **kw: jl.time_to_convert(ev, STEPS, "1d", **kw),
        param,
        bad,
        near,
    )
    case(
        "trended_funnel",
        lambda ev, **kw: jl.trended_funnel(ev, STEPS, "1d", **kw),
        param,
        bad,
        near,
    )
case("funnel", lambda ev, **kw: jl.funnel(ev, STEPS, "1d", **kw), "by_value", "firstt", "first")
case(
    "trended_funnel", lambda ev, **kw: jl.trended_funnel(ev, STEPS, **kw), "every", "weeks", "week"
)
case(
    "compare_funnels",
    lambda ev, **kw: jl.compare_funnels({"a": ev, "b": ev}, STEPS, "1d", **kw),
    "mode",
    "strict_increasing",
    "strict_increase",
)
for name in ("paths", "step_matrix", "transitions", "predict_next"):
    case(
        name, lambda ev, name=name, **kw: getattr(jl, name)(ev, **kw), "unit", "sessions", "session"
    )
    case(
        name,
        lambda ev, name=name, **kw: getattr(jl, name)(ev, **kw),
        "collapse_repeats",
        "yes",
        None,
    )
for name in ("next_steps", "previous_steps"):
    case(
        name, lambda ev, name=name, **kw: getattr(jl, name)(ev, "cart", **kw), "unit", "usr", "user"
    )
case("transitions", lambda ev, **kw: jl.transitions(ev, **kw), "endpoints", "no", None)
for param, bad, near in [
    ("period", "weeks", "week"),
    ("kind", "nday", "n_day"),
    ("cohort", "firsts", "first"),
    ("rolling", "true", None),
    ("revenue", 1, None),
    ("with_names", "no", None),
]:
    case("retention", lambda ev, **kw: jl.retention(ev, **kw), param, bad, near)
case(
    "journey_map",
    lambda ev, **kw: jl.journey_map(ev, STAGES, key_events=[], **kw),
    "purchase_stage",
    "purchas",
    "purchase",
)
case(
    "compare_segments",
    lambda ev, **kw: jl.compare_segments(ev, {"a": ev, "b": ev}, steps=STEPS, **kw),
    "mode",
    "unorderd",
    "unordered",
)
case(
    "compare_segments",
    lambda ev, **kw: jl.compare_segments(ev, {"a": ev, "b": ev}, steps=STEPS, **kw),
    "retention_period",
    "months",
    "month",
)
case("personas", lambda ev, **kw: jl.personas(ev, STAGES, **kw), "members", "all", None)
for param, bad, near in [
    ("touchpoint", "sessions", "session"),
    ("count", "everyone", "every"),
    ("transform", "uniq", "unique"),
    ("drop_direct", "yes", None),
    ("models", ["last_touchh"], "last_touch"),
]:
    case(
        "attribution",
        lambda ev, **kw: jl.attribution(ev, conversion="buy", **kw),
        param,
        bad,
        near,
    )


@pytest.mark.parametrize(
    ("call", "param", "bad", "near"),
    [pytest.param(c, p, b, n, id=f"{name}-{p}") for name, c, p, b, n in CASES],
)
def test_a_bad_value_is_a_parameter_error_naming_the_allowed_values(
    ev: jl.Events, call: Callable[..., object], param: str, bad: object, near: str | None
) -> None:
    with pytest.raises(jl.ParameterError) as caught:
        call(ev, **{param: bad})
    error = caught.value
    assert error.param == param
    assert error.allowed, str(error)
    if near is not None:
        assert error.suggestion == near, str(error)


#: one good call of every public analysis over the fixture's events
CALLS = one_call_each(STEPS, STAGES)


def test_every_registered_analysis_is_public_and_called_here() -> None:
    """The registry lists every public analysis: a new one must join CALLS (and CASES)."""
    others = {"connect", "open", "read_events", "data_quality", "explore", "option_context"}
    public = {
        name
        for name in jl.__all__
        if callable(getattr(jl, name))
        and not isinstance(getattr(jl, name), type)
        and not name.endswith("_widget")
    } - others
    assert set(ANALYSES) == public
    assert set(CALLS) == set(ANALYSES)
    assert len({a.slug for a in ANALYSES.values()}) == len(ANALYSES)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_every_result_has_its_slug_columns_and_sql_another_dialect_accepts(
    ev: jl.Events, name: str
) -> None:
    result = CALLS[name](ev)
    declared = ANALYSES[name]
    assert result.slug == declared.slug
    assert set(declared.columns) <= set(result.table.columns), result.table.columns
    assert result.counts == declared.counts
    assert result.params["plan"] in declared.plans
    assert set(result.views) <= set(declared.views)
    assert isinstance(result.sql, SQL)
    spark = result.sql.to("spark")
    assert isinstance(spark, SQL) and str(spark).strip()
    assert result.params, name


def test_attribution_of_a_path_summary_says_no_query_ran() -> None:
    summary = pd.DataFrame({"path": ["Email > Direct"], "conversions": [1], "nulls": [0]})
    result = jl.attribution(summary, models=["last_touch"])
    assert str(result.sql.to("bigquery")) == str(result.sql)
    assert str(result.sql).startswith("-- no query:")


def counted(result: jl.Result) -> dict[str, list[str]]:
    """The people-count columns the result declares, by table ("" is the main table)."""
    tables = {"": result.table, **result.extras}
    return {
        name: [c for c in result.counts_in(name) if c in frame] for name, frame in tables.items()
    }


@pytest.mark.parametrize("name", sorted(CALLS))
def test_every_declared_people_count_is_a_column_and_a_shared_report_blanks_it(
    ev: jl.Events, name: str
) -> None:
    """The fixture has four people, so with min_cell_size=5 no positive count may show."""
    result = CALLS[name](ev)
    columns = counted(result)
    found = {f"{table}.{c}" if table else c for table, cs in columns.items() for c in cs}
    assert found or not result.counts  # some are optional: sessions only with unit="session"
    shared = result.shared(min_cell_size=5)
    tables = {"": shared.table, **shared.extras}
    for table, cs in columns.items():
        for column in cs:
            shown = pd.to_numeric(tables[table][column], errors="coerce")
            assert not ((shown >= 1) & (shown < 5)).any(), (table, column)
            assert not (shown >= 5).any(), (table, column, "only four people exist")


def test_explore_offers_registered_analyses_under_their_titles() -> None:
    from journeylib.faces.widgets import TABS

    assert set(TABS) <= set(ANALYSES)
    assert ANALYSES["journey_map"].title == "Journey map"
