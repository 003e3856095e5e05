"""Stages: maps from dicts and YAML, defaults, validation, and funnels over stages."""

from __future__ import annotations

import pytest

import journeylib as jl
from journeylib.loading.datasets import sample_or
from journeylib.model.stages import AIDA, FIVE_STAGE, HOURGLASS, Stages


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


def rule_log(tmp_path) -> jl.Events:
    """Five people, loaded through the CSV loader (unmapped columns land in properties).

    a: view (mobile), cart worth 120, purchase 120, purchase 40
    b: view (desktop), cart worth 80, purchase 80
    c: view (mobile), cart worth 150 (device "mobile"), no purchase
    d: view (tablet), cart worth 300 with coupon "it's 10%", purchase 300, purchase 20, purchase 5
    e: view (mobile), no cart
    """
    rows = [
        ("a", "view", "01T10", "mobile", "", ""), ("a", "cart", "01T11", "mobile", "120", ""),
        ("a", "purchase", "01T12", "mobile", "120", ""), ("a", "purchase", "05T12", "mobile", "40", ""),
        ("b", "view", "01T10", "desktop", "", ""), ("b", "cart", "01T11", "desktop", "80", ""),
        ("b", "purchase", "01T12", "desktop", "80", ""),
        ("c", "view", "01T10", "mobile", "", ""), ("c", "cart", "01T11", "mobile", "150", ""),
        ("d", "view", "01T10", "tablet", "", ""), ("d", "cart", "01T11", "tablet", "300", "it's 10%"),
        ("d", "purchase", "01T12", "tablet", "300", ""), ("d", "purchase", "02T12", "tablet", "20", ""),
        ("d", "purchase", "03T12", "tablet", "5", ""),
        ("e", "view", "01T10", "mobile", "", ""),
    ]  # fmt: skip
    lines = ["user_id,event_name,event_time,device,value,coupon"]
    lines += [f'{u},{n},2024-01-{t}:00:00Z,{d},{v},"{c}"' for u, n, t, d, v, c in rows]
    path = tmp_path / "rules.csv"
    path.write_text("\n".join(lines) + "\n")
    ws = jl.open()
    ws.load_events(path)
    return ws.events()


def test_stage_rules_with_typed_conditions_and_nth_occurrence(tmp_path):
    ev = rule_log(tmp_path)
    stages = Stages(
        {
            "mobile_view": {"events": ["view"], "where": {"device": {"in": ["mobile", "tablet"]}}},
            "big_cart": {"event": "cart", "where": {"value": {">=": 100}}},
            "repeat": {"events": ["purchase"], "nth": 2},
        }
    )
    # mobile or tablet views: a, c, d, e (4). Carts worth >= 100 (a number, not text: "80" >
    # "100" as text): a 120, c 150, d 300 (3). A second purchase: a, d (2).
    table = jl.funnel(ev, stages, within="30d").table
    assert table.users.tolist() == [4, 3, 2]
    # the 3rd purchase is d's alone; "!=" and text equality with a quote in the value
    third = Stages({"cart": {"events": ["cart"], "where": {"coupon": {"!=": "it's 10%"}}},
                    "third": {"events": ["purchase"], "nth": 3}})  # fmt: skip
    # carts without that coupon: a, b, c (a missing coupon is "not equal"); none buys 3 times
    assert jl.funnel(ev, third, within="30d").table.users.tolist() == [3, 0]
    quoted = Stages(
        {"cart": {"events": ["cart"], "where": {"coupon": "it's 10%"}}, "buy": ["purchase"]}
    )
    assert jl.funnel(ev, quoted, within="30d").table.users.tolist() == [1, 1]


def test_stage_rules_load_from_yaml_and_round_trip(tmp_path):
    path = tmp_path / "stages.yml"
    path.write_text(
        "look: [view]\n"
        "decide:\n  events: [cart]\n  where: {value: {'>': 100, '<=': 200}, device: mobile}\n"
        "again:\n  events: [purchase]\n  nth: 2\n"
    )
    stages = Stages.from_yaml(path)
    assert stages.spec() == {
        "look": ["view"],
        "decide": {
            "events": ["cart"],
            "where": {"value": {">": 100, "<=": 200}, "device": "mobile"},
        },
        "again": {"events": ["purchase"], "nth": 2},
    }
    assert Stages(stages.spec()).spec() == stages.spec()
    # carts worth more than 100 and at most 200 on mobile: a (120) and c (150)
    ev = rule_log(tmp_path)
    assert jl.funnel(ev, stages, within="30d").table.users.tolist() == [5, 2, 1]


def test_bad_stage_rules_name_the_problem():
    with pytest.raises(jl.ParameterError, match=r"'~='.*Allowed values: ==, !=, <, <=, >, >=, in"):
        Stages({"x": {"events": ["view"], "where": {"value": {"~=": 3}}}})
    with pytest.raises(jl.ParameterError, match=r"'evnts'.*Unknown key in an event rule"):
        Stages({"x": {"evnts": ["view"]}})
    with pytest.raises(jl.ParameterError, match=r"nth"):
        Stages({"x": {"events": ["purchase"], "nth": 0}})
    with pytest.raises(jl.ParameterError, match=r"Name one or more events \(in 'stage x'\)"):
        Stages({"x": []})


def test_the_sample_repeat_buyers_and_mobile_checkout_through_rules(sample):
    ev = sample.events()
    # story 3: 1,434 buyers, 830 buy again (data/README.md)
    repeat = Stages(
        {"first": {"events": ["purchase"], "nth": 1}, "second": {"events": ["purchase"], "nth": 2}}
    )
    assert jl.funnel(ev, repeat, within="365d").table.users.tolist() == [1434, 830]
    # story 1: checkouts started on mobile go on to payment far less often than on desktop
    rates = {}
    for device in ("mobile", "desktop"):
        checkout = {"events": ["begin_checkout"], "where": {"device.category": device}}
        stages = Stages({"checkout": checkout, "payment": ["add_payment_info"]})
        rates[device] = jl.funnel(ev, stages, within="1d").table.conversion_rate.iloc[1]
    assert rates["mobile"] < 0.7 < 0.9 < rates["desktop"]
