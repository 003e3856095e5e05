"""The sample generator is deterministic, its exports load cleanly, and its stories survive loading."""

from __future__ import annotations

import hashlib
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
        select properties->>'$.device.category' as device,
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
