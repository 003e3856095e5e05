"""Channel grouping: GA4-style defaults, overrides, and rules as bound parameters."""

from __future__ import annotations

import pytest

import journeylib as jl
from journeylib.core.engine import Engine
from journeylib.loading.channels import case_sql, load_rules

# (source, medium, campaign) -> channel, as GA4's default channel group documents them
CASES = [
    (None, None, None, "Direct"),
    ("(direct)", "(none)", None, "Direct"),
    ("google", "cpc", "brand", "Paid Search"),
    ("bing", "ppc", None, "Paid Search"),
    ("google", "organic", None, "Organic Search"),
    ("duckduckgo", "referral", None, "Organic Search"),
    ("facebook", "paid_social", None, "Paid Social"),
    ("instagram", "cpc", None, "Paid Social"),
    ("instagram", "social", None, "Organic Social"),
    ("t.co", "referral", None, "Organic Social"),
    ("newsletter", "email", "spring", "Email"),
    ("partner", "affiliate", None, "Affiliates"),
    ("blog.example", "referral", None, "Referral"),
    ("gdn", "display", None, "Display"),
    ("youtube", "video", None, "Video"),
    ("YouTube", "referral", None, "Video"),
    ("smsbump", "sms", None, "SMS"),
    ("weird", "thing", None, "Unassigned"),
]


def classify(rules, source, medium, campaign) -> str:
    engine = Engine.connect(None)
    engine.execute("create table t (source varchar, medium varchar, campaign varchar)")
    engine.execute("insert into t values (?, ?, ?)", [source, medium, campaign])
    sql, params = case_sql(rules, {"source": "source", "medium": "medium", "campaign": "campaign"})
    return str(engine.scalar(f"select {sql} from t", params))


@pytest.mark.parametrize(("source", "medium", "campaign", "expected"), CASES)
def test_default_rules_follow_ga4_default_channel_group(source, medium, campaign, expected):
    assert classify(load_rules(), source, medium, campaign) == expected


def test_rules_from_yaml_override_the_defaults(tmp_path):
    path = tmp_path / "rules.yml"
    path.write_text(
        "- channel: Partners\n  source: 'partner.*'\n- channel: Everything else\n", "utf-8"
    )
    rules = load_rules(path)
    assert classify(rules, "partner-x", "affiliate", None) == "Partners"
    assert classify(rules, "google", "cpc", None) == "Everything else"


def test_a_rule_pattern_is_data_not_sql():
    rules = load_rules([{"channel": "x'); drop table t; --", "source": "a'b"}, {"channel": "o"}])
    assert classify(rules, "a'b", None, None) == "x'); drop table t; --"


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ([{"medium": "email"}], r"row 1: each rule needs a 'channel' name"),
        ([{"channel": "E", "meduim": "email"}], r"row 1: unknown keys \['meduim'\]"),
        ([{"channel": "E", "source": "("}], r"row 1, field source: bad regular expression"),
        ([], r"channel rules must be a non-empty list"),
    ],
)
def test_bad_rules_name_the_rule_and_the_problem(rules, message):
    with pytest.raises(jl.DataError, match=message):
        load_rules(rules)
