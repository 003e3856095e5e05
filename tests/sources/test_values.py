"""Values that used to load silently wrong: zone-named timestamps, 12-hour clocks, NaN and inf.

Expected instants come from Python's zoneinfo (IANA names) and from offsets
written here by hand (abbreviations), not from the code under test.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

import journeylib as jl

WALL = "2024-07-01T10:00:00"  # a summer date: IANA names must honour daylight time
NAMED = ["America/New_York", "Europe/Berlin", "Asia/Kolkata", "Australia/Sydney", "UTC"]
BY_HAND = {"EST": -5, "EDT": -4, "PST": -8, "PDT": -7, "CET": 1, "CEST": 2, "JST": 9}


def utc(instant: datetime) -> pd.Timestamp:
    return pd.Timestamp(instant.astimezone(UTC))


def load_times(ws: jl.Workspace, tmp_path, texts: list[str]) -> jl.LoadReport:
    rows = "".join(f"u{i},e{i},{text}\n" for i, text in enumerate(texts))
    path = tmp_path / "events.csv"
    path.write_text("user_id,event_name,event_time\n" + rows)
    return ws.load_events(path)


def times(ws: jl.Workspace) -> dict[str, pd.Timestamp]:
    frame = ws.sql("select event_name, event_time from events")
    return dict(zip(frame.event_name, frame.event_time, strict=True))


def test_iana_zone_names_and_common_abbreviations_are_honoured(ws, tmp_path):
    texts = [f"{WALL} {name}" for name in NAMED] + [f"{WALL} {abbr}" for abbr in BY_HAND]
    report = load_times(ws, tmp_path, texts)
    assert (report.loaded, report.rejected, [n for n in report.notes if "Direct" not in n]) == (
        len(texts),
        0,
        [],
    )
    wall = datetime.fromisoformat(WALL)
    expected = [utc(wall.replace(tzinfo=ZoneInfo(name))) for name in NAMED] + [
        utc(wall.replace(tzinfo=timezone(timedelta(hours=hours)))) for hours in BY_HAND.values()
    ]
    got = times(ws)
    assert [got[f"e{i}"] for i in range(len(texts))] == expected
    assert got["e0"] == pd.Timestamp("2024-07-01T14:00:00Z")  # New York in July is UTC-4


@pytest.mark.parametrize(
    ("text", "zone"),
    [("IST", "IST"), ("CST", "CST"), ("BST", "BST"), ("Mars/Olympus_Mons", "Mars/Olympus_Mons")],
)
def test_ambiguous_or_unknown_zones_are_rejected_with_the_reason(ws, tmp_path, text, zone):
    report = load_times(ws, tmp_path, [f"{WALL} {text}", "2024-01-01T00:00:00Z"])
    assert (report.loaded, report.rejected) == (1, 1)
    reason = report.rejected_rows.reason.item()
    assert reason.startswith(f"unknown or ambiguous time zone {zone} (write an offset")
    assert report.rejected_rows.field.item() == "event_time"


def test_a_twelve_hour_clock_is_read_and_trailing_text_is_not_ignored(ws, tmp_path):
    texts = ["2024-01-01 10:00 PM", "2024-01-01 12:30:05 am", "2024-01-01 10:00:00 123"]
    report = load_times(ws, tmp_path, texts)
    got = times(ws)
    assert got["e0"] == pd.Timestamp("2024-01-01T22:00:00Z")
    assert got["e1"] == pd.Timestamp("2024-01-01T00:30:05Z")
    assert report.rejected_rows[["row", "reason"]].values.tolist() == [
        [3, "not a valid timestamp: 2024-01-01 10:00:00 123"]
    ]


def test_nan_and_infinite_revenue_are_rejected_and_refunds_kept(ws, tmp_path):
    values = ["NaN", "inf", "-Infinity", "-12.5", "9.99", ""]
    rows = "".join(f"u1,buy{i},2024-01-0{i + 1}T10:00:00Z,{v}\n" for i, v in enumerate(values))
    path = tmp_path / "events.csv"
    path.write_text("user_id,event_name,event_time,revenue\n" + rows)
    report = ws.load_events(path)
    assert report.rejected_rows[["row", "field", "reason"]].values.tolist() == [
        [1, "revenue", "not a number: NaN"],
        [2, "revenue", "not a number: inf"],
        [3, "revenue", "not a number: -Infinity"],
    ]
    revenue = ws.sql("select revenue from events order by event_time").revenue.tolist()
    assert revenue[:2] == [-12.5, 9.99] and pd.isna(revenue[2])


def test_json_exports_reject_non_finite_revenue_too(ws, tmp_path):
    lines = [
        {
            "type": "track",
            "event": "buy",
            "userId": "u1",
            "timestamp": "2024-01-01T10:00:00Z",
            "messageId": "m1",
            "properties": {"revenue": "NaN"},
        },
        {
            "type": "track",
            "event": "buy",
            "userId": "u1",
            "timestamp": "2024-01-01T11:00:00Z",
            "messageId": "m2",
            "properties": {"revenue": -3},
        },
    ]
    path = tmp_path / "segment.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    report = ws.load_events(path, source="segment")
    assert report.rejected_rows[["row", "field"]].values.tolist() == [[1, "properties.revenue"]]
    assert ws.sql("select revenue from events").revenue.tolist() == [-3.0]


def test_crm_amounts_reject_infinity(ws, tmp_path):
    path = tmp_path / "deals.csv"
    path.write_text(
        "deal_id,contact_id,amount,createdate\n"
        "D1,alice,inf,2024-01-05T10:00:00Z\nD2,bob,100,2024-01-05T10:00:00Z\n"
    )
    report = ws.load_deals(path)
    assert report.rejected_rows[["row", "field", "reason"]].values.tolist() == [
        [1, "amount", "not a valid number: inf"]
    ]
