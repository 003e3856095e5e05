"""Segment export: the golden case of tests/golden/segment/README.md."""

from __future__ import annotations

import pandas as pd

GOLDEN = "tests/golden/segment/app_events.jsonl"
EVIL = "Ünïcode '; drop table events; --"


def test_golden_calls(ws):
    report = ws.load_events(GOLDEN, source="segment")
    assert (report.rows, report.loaded, report.duplicates, report.rejected) == (9, 6, 1, 2)
    got = ws.sql(
        "select event_id, event_name, user_id, event_time, channel, revenue from events order by event_time, event_id"
    )
    rows = [[None if pd.isna(v) else v for v in row] for row in got.values.tolist()]
    assert rows == [
        ["m-1", "page_view", "user-7", pd.Timestamp("2024-04-01T08:00Z"), "Paid Social", None],
        ["m-2", "Product Viewed", "user-7", pd.Timestamp("2024-04-01T08:01Z"), "Direct", None],
        ["m-3", "identify", "user-7", pd.Timestamp("2024-04-01T08:02Z"), "Direct", None],
        ["m-4", "Order Completed", "user-7", pd.Timestamp("2024-04-01T08:02Z"), "Direct", 39.0],
        ["m-5", "screen_view", "user-8", pd.Timestamp("2024-04-02T09:00Z"), "Direct", None],
        ["m-6", EVIL, "o'brien", pd.Timestamp("2024-04-02T09:30Z"), "Direct", None],
    ]
    rejected = report.rejected_rows[["row", "field", "reason"]].values.tolist()
    assert rejected == [
        [6, "line", "not valid JSON (a truncated or corrupted line)"],
        [9, "properties.revenue", "not a number: ten"],
    ]


def test_properties_keep_the_call(ws):
    ws.load_events(GOLDEN, source="segment")
    page = ws.sql("select properties from events where event_id = 'm-1'").iloc[0, 0]
    assert page["title"] == "Home" and page["name"] == "Home" and page["type"] == "page"
    assert page["context"]["page"]["url"] == "https://shop.example/"
    identify = ws.sql("select properties from events where event_id = 'm-3'").iloc[0, 0]
    assert identify["traits"] == {"email": "x@example.com"}
    evil = ws.sql("select properties from events where event_id = 'm-6'").iloc[0, 0]
    assert evil["note"] == 'it\'s "quoted"'
