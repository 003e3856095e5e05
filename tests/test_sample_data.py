"""The sample generator is deterministic, its exports load cleanly, and its stories survive loading."""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest

import journeylib as jl
from journeylib import datasets

ROOT = Path(__file__).parents[1]


def checksums(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_the_same_seed_gives_byte_identical_files(tmp_path):
    for run in ("a", "b"):
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "data" / "generate.py"),
                "--out",
                str(tmp_path / run),
                "--people",
                "200",
            ],
            check=True,
            capture_output=True,
        )
    assert checksums(tmp_path / "a") == checksums(tmp_path / "b")
    assert len(checksums(tmp_path / "a")) >= 8


@pytest.fixture(scope="module")
def sample() -> jl.Workspace:
    ws = jl.open()
    reports = datasets.load_sample(ws)
    assert {name: r.rejected for name, r in reports.items()} == dict.fromkeys(reports, 0)
    return ws


def stories() -> dict:
    return json.loads((datasets.sample_dir() / "stories.json").read_text())


def test_every_simulated_event_loads(sample):
    truth = stories()
    ga4 = sample.sql("select count(*) from events where origin like '%ga4%'").iloc[0, 0]
    assert ga4 == truth["events"]
    buyers = sample.sql(
        "select count(distinct user_id) from events where event_name = 'purchase'"
    ).iloc[0, 0]
    assert buyers == truth["buyers"]


def test_story_1_mobile_checkout_matches_the_ground_truth(sample):
    # share of sessions with begin_checkout that also have add_payment_info, by device
    rates = sample.sql(
        """
        select properties.device.category::varchar as device,
               count(distinct session_id) filter (where event_name = 'add_payment_info')
               / count(distinct session_id) filter (where event_name = 'begin_checkout') as rate
        from events where origin like '%ga4%' group by 1 order by 1
        """
    )
    expected = stories()["1_mobile_checkout"]["payment_after_checkout_rate"]
    assert dict(zip(rates.device, rates.rate.round(4), strict=True)) == pytest.approx(
        expected, abs=1e-4
    )


def test_story_2_first_and_last_touch_channels_are_recoverable(sample):
    first = sample.sql(
        """
        with buyers as (select distinct user_id from events where event_name = 'purchase'),
        firsts as (select user_id, arg_min(channel, event_time) as channel
                   from events where origin like '%ga4%' and user_id in (select user_id from buyers) group by 1)
        select channel, count(*) as n from firsts group by 1 order by 2 desc
        """
    )
    assert first.channel.iloc[0] == "Paid Social"
    assert (
        dict(zip(first.channel, first.n, strict=True))
        == stories()["2_open_and_close"]["first_touch_of_buyers"]
    )
    last = sample.sql(
        """
        select arg_min(channel, event_time) as channel, user_id
        from events where event_name = 'purchase' and origin like '%ga4%' group by 2
        """
    ).channel.value_counts()
    assert dict(last) == stories()["2_open_and_close"]["last_touch_of_first_purchase"]
    assert set(last.index[:2]) == {"Email", "Paid Search"}  # the two closers


def test_story_2_through_attribution_first_and_last_touch(sample):
    # each buyer's first purchase, every touch before it: first touch is their first
    # session's channel, last touch the channel of the session they bought in
    result = jl.attribution(
        sample.events(), "purchase", None, ["first_touch", "last_touch"], count="first"
    )
    credit = result.table.pivot_table(index="channel", columns="model", values="conversions")
    truth = stories()["2_open_and_close"]
    assert credit.first_touch.to_dict() == truth["first_touch_of_buyers"]
    assert credit.last_touch.to_dict() == truth["last_touch_of_first_purchase"]
    assert result.extras["checks"].ok.all()


HEADERS = {
    "crm/deals.csv": "deal_id,contact_id,pipeline,dealstage,amount,currency,createdate,"
    "date_entered_lead,date_entered_opportunity,date_entered_closedwon,date_entered_closedlost",
    "spend/google_ads.csv": "Day,Campaign,Campaign type,Currency code,Cost,Impressions,Clicks",
    "spend/meta_ads.csv": "Reporting starts,Reporting ends,Campaign name,Amount spent (EUR),"
    "Impressions,Link clicks",
    "survey/nps.csv": "response_id,user_id,submitted_at,score,comment",
    "support/tickets.csv": "ticket_id,requester_id,created_at,subject,status,priority,"
    "satisfaction_rating",
}


@pytest.mark.parametrize("name", sorted(HEADERS))
def test_csv_exports_have_the_vendor_headers(name):
    lines = (datasets.sample_dir() / name).read_text("utf-8").splitlines()
    assert lines[0] == HEADERS[name]
    assert len(lines) > 10
    assert {line.count(",") for line in lines[1:]} == {HEADERS[name].count(",")}  # no quoted commas


def test_ga4_rows_follow_the_bigquery_export_layout():
    files = datasets.sample_files()["ga4"]
    assert [f.name for f in files] == [f"events_20240{m}.ndjson.gz" for m in range(1, 6)]
    with gzip.open(files[3], "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    assert all(isinstance(r["event_timestamp"], str) for r in rows)  # INT64 as a string
    assert all(r["event_date"] == r["event_date"][:8] and r["platform"] == "WEB" for r in rows)
    starts = [
        r for r in rows if r["event_name"] == "session_start" and "collected_traffic_source" in r
    ]
    cpc = [r for r in starts if r["collected_traffic_source"]["manual_medium"] == "cpc"]
    assert cpc and all(r["collected_traffic_source"]["gclid"] for r in cpc)
    params = {p["key"]: p["value"] for p in starts[0]["event_params"]}
    assert (
        params["source"]["string_value"] == starts[0]["collected_traffic_source"]["manual_source"]
    )
    assert set(params["ga_session_id"]) == {
        "string_value",
        "int_value",
        "float_value",
        "double_value",
    }
    purchases = [r for r in rows if r["event_name"] == "purchase"]
    assert all(r["ecommerce"]["transaction_id"] and r["items"] and r["user_id"] for r in purchases)
    # identity stitching: one pseudo id is anonymous on some rows and identified on later ones
    seen: dict[str, set[bool]] = {}
    for r in rows:
        seen.setdefault(r["user_pseudo_id"], set()).add(r["user_id"] is None)
    assert any(flags == {True, False} for flags in seen.values())


def test_segment_calls_are_identify_and_track_with_iso_timestamps():
    lines = datasets.sample_files()["segment"][0].read_text("utf-8").splitlines()
    calls = [json.loads(line) for line in lines]
    assert {c["type"] for c in calls} == {"identify", "track"}
    assert all(c["timestamp"].endswith("Z") and c["anonymousId"] and c["messageId"] for c in calls)
    assert len({c["messageId"] for c in calls}) == len(calls)
    assert all("event" in c for c in calls if c["type"] == "track")


def test_stories_3_to_6_point_the_planted_way():
    truth = stories()
    repeat = truth["3_repeat_via_email"]
    assert repeat["second_purchase_in_email_session"] > repeat["repeat_buyers"] / 2
    unhappy = truth["4_unhappy_rarely_return"]
    assert unhappy["repeat_rate_unhappy"] < unhappy["repeat_rate_others"] * 0.7
    rhythm = truth["5_rhythm_and_spike"]
    assert rhythm["sessions_per_weekday"] > rhythm["sessions_per_weekend_day"]
    assert (
        rhythm["paid_search_sessions_per_day_spike_week"]
        > 1.5 * rhythm["paid_search_sessions_per_day_other"]
    )
    # every stage reaches fewer people than the one before it (3000 > 2819 > 2143 > 1434 > 737)
    stages = ("awareness", "consideration", "decision", "purchase", "post_purchase")
    reach = [truth["6_stages"][name] for name in stages]
    assert all(a > b > 0 for a, b in itertools.pairwise(reach))
    assert reach[0] == truth["people"]
    assert truth["6_stages"]["purchase"] == truth["buyers"]


def test_story_5_the_spring_sale_shows_in_paid_search_spend(sample):
    # mean daily Search cost in the sale week against the rest of the five months
    cost = sample.sql(
        """
        select (date between '2024-04-08' and '2024-04-14') as sale, avg(cost) as cost
        from spend where channel = 'Paid Search' group by 1
        """
    )
    by = dict(zip(cost.sale, cost.cost, strict=True))
    assert by[True] > 1.5 * by[False]


def test_stories_3_and_4_are_recoverable_from_the_loaded_events(sample):
    repeat = sample.sql(
        """
        with p as (select user_id, channel,
                          row_number() over (partition by user_id order by event_time) as k
                   from events where event_name = 'purchase' and origin like '%ga4%')
        select count(*) as repeaters, count(*) filter (where channel = 'Email') as email
        from p where k = 2
        """
    )
    truth = stories()["3_repeat_via_email"]
    assert repeat.repeaters.iloc[0] == truth["repeat_buyers"]
    assert repeat.email.iloc[0] == truth["second_purchase_in_email_session"]
