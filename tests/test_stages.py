"""Stages: maps from dicts and YAML, defaults, validation, and funnels over stages."""

from __future__ import annotations

import pytest

import journeylib as jl
from journeylib.datasets import sample_or
from journeylib.stages import AIDA, FIVE_STAGE, HOURGLASS, Stages


@pytest.fixture(scope="module")
def sample() -> jl.Workspace:
    return sample_or("")


def test_default_maps_are_ordered_as_their_names_say():
    assert FIVE_STAGE.names == [
        "awareness",
        "consideration",
        "decision",
        "purchase",
        "post_purchase",
    ]
    assert HOURGLASS.names[-2:] == ["retention", "advocacy"]
    assert AIDA.names == ["attention", "interest", "desire", "action"]


def test_stages_from_yaml_and_a_typo_gets_a_suggestion(tmp_path):
    path = tmp_path / "stages.yml"
    path.write_text("look: [page_view]\nbuy: [purchse]\n")
    stages = Stages.from_yaml(path)
    with pytest.raises(jl.ParameterError, match=r"'purchse'.*stage 'buy'.*Did you mean 'purchase'"):
        stages.validate(["page_view", "purchase"])


def test_a_funnel_over_stages_counts_any_of_each_stages_events(sample):
    stages = Stages(
        {
            "visit": ["session_start"],
            "consider": ["view_item"],
            "decide": ["add_to_cart", "begin_checkout"],
            "buy": ["purchase"],
        }
    )
    table = jl.funnel(sample.events(), stages, within="30d").table
    assert table.step.tolist() == ["visit", "consider", "decide", "buy"]
    # a decision is add_to_cart OR begin_checkout: at least as many as add_to_cart alone
    alone = jl.funnel(
        sample.events(), ["session_start", "view_item", "add_to_cart", "purchase"], within="30d"
    ).table
    assert table.users.tolist()[:2] == alone.users.tolist()[:2]
    assert table.users.iloc[2] >= alone.users.iloc[2]
    assert table.users.iloc[0] == 3000  # every sample person starts a session (data/README.md)


def test_a_misspelt_step_is_an_error_but_an_absent_one_is_a_zero(sample):
    with pytest.raises(
        jl.ParameterError, match=r"'purchse' for parameter 'steps'.*Did you mean 'purchase'"
    ):
        jl.funnel(sample.events(), ["session_start", "purchse"])
    table = jl.funnel(sample.events(), ["session_start", "teleport"]).table
    assert table.users.tolist() == [3000, 0]


def test_maps_by_name_or_yaml_path(tmp_path):
    assert jl.Stages.named("hourglass").names[-2:] == ["retention", "advocacy"]
    path = tmp_path / "mine.yml"
    path.write_text("look: [page_view]\nbuy: [purchase]\n")
    assert jl.Stages.named(str(path)).events("buy") == ("purchase",)
    with pytest.raises(jl.ParameterError, match="Did you mean 'hourglass'"):
        jl.Stages.named("hourglas")
