"""Mixpanel raw export: ids, seconds and milliseconds, dedupe on $insert_id, bad lines."""

from __future__ import annotations

import json

import pandas as pd

LINES = [
    # an anonymous visit on a device, tagged with UTMs: 2024-02-01 10:00:00 UTC in seconds
    {
        "event": "Page Viewed",
        "properties": {
            "time": 1706781600,
            "distinct_id": "$device:dev-1",
            "$device_id": "dev-1",
            "$insert_id": "i-1",
            "utm_source": "newsletter",
            "utm_medium": "email",
            "page": "/",
        },
    },
    # the same device identifies: $user_id present, time in milliseconds (10:05)
    {
        "event": "Signed Up",
        "properties": {
            "time": 1706781900000,
            "distinct_id": "carla",
            "$device_id": "dev-1",
            "$user_id": "carla",
            "$insert_id": "i-2",
        },
    },
    {
        "event": "Purchase",
        "properties": {
            "time": 1706782200,
            "distinct_id": "carla",
            "$insert_id": "i-3",
            "revenue": 59.9,
        },
    },
    # an exact resend of i-3: deduped
    {
        "event": "Purchase",
        "properties": {
            "time": 1706782200,
            "distinct_id": "carla",
            "$insert_id": "i-3",
            "revenue": 59.9,
        },
    },
    {
        "event": "Ünïcode '; drop table events; --",
        "properties": {"time": "1706782300", "distinct_id": "o'hara", "$insert_id": "i-4"},
    },
    {
        "event": "Purchase",
        "properties": {"time": "soon", "distinct_id": "dave", "$insert_id": "i-5"},
    },
]


def test_golden_export(ws, tmp_path):
    path = tmp_path / "export.ndjson"
    text = [json.dumps(line, ensure_ascii=False) for line in LINES]
    text.insert(3, "{not json")
    path.write_text("\n".join(text) + "\n", "utf-8")
    report = ws.load_events(path, source="mixpanel")
    assert (report.rows, report.loaded, report.duplicates, report.rejected) == (7, 4, 1, 2)
    assert report.rejected_rows[["row", "field", "reason"]].values.tolist() == [
        [4, "line", "not valid JSON (a truncated or corrupted line)"],
        [7, "properties.time", "not a valid timestamp: soon"],
    ]
    rows = ws.sql(
        "select event_id, user_id, anonymous_id, event_time, channel, revenue from events order by event_time"
    )
    assert [[None if pd.isna(v) else v for v in r] for r in rows.values.tolist()] == [
        ["i-1", "carla", "dev-1", pd.Timestamp("2024-02-01T10:00Z"), "Email", None],
        ["i-2", "carla", "dev-1", pd.Timestamp("2024-02-01T10:05Z"), "Direct", None],
        ["i-3", "carla", None, pd.Timestamp("2024-02-01T10:10Z"), "Direct", 59.9],
        ["i-4", "o'hara", None, pd.Timestamp("2024-02-01T10:11:40Z"), "Direct", None],
    ]
    page = ws.sql("select properties from events where event_id = 'i-1'").iloc[0, 0]
    assert page["page"] == "/" and page["$device_id"] == "dev-1"
