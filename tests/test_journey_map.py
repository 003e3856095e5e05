"""The journey map and stage_of against a plain-Python oracle, the sample's stories, and funnels."""

from __future__ import annotations

import json

import pytest
from oracles import events as canonical
from oracles.journey_map import STAGES, oracle_map, oracle_stage_of, random_log

import journeylib as jl
from journeylib import datasets
from journeylib.analyses.journey_map import journey_map, stage_of


@pytest.mark.parametrize("seed", range(6))
def test_journey_map_equals_the_oracle(seed: int) -> None:
    frame, feedback = random_log(seed)
    result = journey_map(canonical(frame, feedback), STAGES, key_events=["x"])
    ours = result.table.set_index(["kind", "touchpoint", "stage_index"]).sort_index()
    expected = oracle_map(frame, feedback, ["x"]).set_index(["kind", "touchpoint", "stage_index"])
    expected = expected.sort_index()
    assert ours.index.tolist() == expected.index.tolist()
    assert ours.people.tolist() == expected.people.tolist()
    assert (
        ours.reached_next.astype("float64").fillna(-1).tolist()
        == expected.reached_next.fillna(-1).tolist()
    )
    for column in ("median_hours_in_stage", "revenue", "mean_score"):
        assert ours[column].astype("float64").fillna(-1).tolist() == pytest.approx(
            expected[column].astype("float64").fillna(-1).tolist()
        ), column
    totals = ours.loc["all"].people.droplevel("touchpoint")
    assert ours.share.tolist() == pytest.approx(
        [p / totals[k] for (_, _, k), p in ours.people.items()]
    )


@pytest.mark.parametrize("seed", range(6))
def test_stage_of_equals_the_oracle(seed: int) -> None:
    frame, _ = random_log(seed)
    table = stage_of(canonical(frame), STAGES).table
    ours = {
        r.user_id: (r.stage_index, pytest.approx(r.hours_in_stage), r.went_back)
        for r in table.itertuples()
    }
    assert ours == oracle_stage_of(frame)


def test_stage_totals_equal_an_unbounded_ordered_funnel() -> None:
    frame, _ = random_log(7)
    ev = canonical(frame)
    totals = journey_map(ev, STAGES, key_events=[]).extras["stages"].people.tolist()
    assert totals == jl.funnel(ev, STAGES, within="3650d").table.users.tolist()


@pytest.fixture(scope="module")
def sample() -> jl.Workspace:
    ws = jl.open()
    datasets.load_sample(ws)
    return ws


def test_sample_stage_reach_and_closers_match_the_ground_truth(sample: jl.Workspace) -> None:
    truth = json.loads((datasets.sample_dir() / "stories.json").read_text())
    result = journey_map(sample.events())
    stages = result.extras["stages"]
    assert dict(zip(stages.stage, stages.people, strict=True)) == truth["6_stages"]
    assert stages.side.tolist() == ["before", "before", "before", "purchase", "after"]
    # the channel of the session people first bought in is the last touch of their first purchase
    bought = result.table.query("kind == 'channel' and stage == 'purchase'")
    assert (
        dict(zip(bought.touchpoint, bought.people, strict=True))
        == (truth["2_open_and_close"]["last_touch_of_first_purchase"])
    )
    assert {"removal_effects"}.isdisjoint(result.views) and "hourglass" in result.views
    assert "<svg" in result.chart_svg() and "<svg" in result.view("hourglass").chart_svg()


def test_bad_stages_and_key_events_name_the_problem(sample: jl.Workspace) -> None:
    ev = sample.events()
    with pytest.raises(jl.ParameterError, match="Did you mean 'purchase'"):
        journey_map(ev, jl.Stages({"look": ["page_view"], "buy": ["purchse"]}))
    with pytest.raises(jl.ParameterError, match="key_events"):
        journey_map(ev, key_events=["no_such_event"])
    with pytest.raises(jl.ParameterError, match="two or more"):
        journey_map(ev, jl.Stages({"only": ["page_view"]}))
