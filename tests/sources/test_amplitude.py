"""Amplitude export: gzipped lines, UTC times, sessions, revenue, a truncated archive."""

from __future__ import annotations

import gzip
import json

import pandas as pd
import pytest

import journeylib as jl

LINES = [
    {
        "uuid": "a-1",
        "event_type": "Session Start",
        "event_time": "2024-03-05 08:00:00.000000",
        "device_id": "D9",
        "user_id": None,
        "session_id": 1709625600000,
        "user_properties": {"utm_source": "google", "utm_medium": "cpc"},
        "event_properties": {},
        "platform": "iOS",
    },
    {
        "uuid": "a-2",
        "event_type": "Add To Cart",
        "event_time": "2024-03-05 08:03:00.500000",
        "device_id": "D9",
        "user_id": "eve",
        "session_id": 1709625600000,
        "event_properties": {"sku": "tent-2p", "price": 249.0},
    },
    {
        "uuid": "a-3",
        "event_type": "Purchase",
        "event_time": "2024-03-05 08:09:00.000000",
        "device_id": "D9",
        "user_id": "eve",
        "session_id": -1,
        "price": "249.0",
        "quantity": 2,
        "event_properties": {"sku": "tent-2p"},
    },
    {
        "uuid": "a-3",
        "event_type": "Purchase",
        "event_time": "2024-03-05 08:09:00.000000",
        "device_id": "D9",
        "user_id": "eve",
        "session_id": -1,
        "price": "249.0",
        "quantity": 2,
    },
]


def write(path, lines):
    path.write_bytes(gzip.compress(("\n".join(json.dumps(x) for x in lines) + "\n").encode()))
    return path


def test_golden_export(ws, tmp_path):
    report = ws.load_events(write(tmp_path / "2024-03-05.json.gz", LINES), source="amplitude")
    assert (report.rows, report.loaded, report.duplicates, report.rejected, report.notes) == (
        4,
        3,
        1,
        0,
        [],
    )
    rows = ws.sql(
        "select event_id, user_id, event_time, session_id, channel, revenue from events order by event_time"
    )
    assert [[None if pd.isna(v) else v for v in r] for r in rows.values.tolist()] == [
        # D9 identified as eve: its anonymous session start moves to her; the session id keeps the device
        ["a-1", "eve", pd.Timestamp("2024-03-05T08:00Z"), "D9:1709625600000", "Paid Search", None],
        ["a-2", "eve", pd.Timestamp("2024-03-05T08:03:00.5Z"), "eve:1709625600000", "Direct", None],
        # session_id -1 is "no session": derived from 30 minutes of inactivity; 249.0 x 2 = 498.0
        ["a-3", "eve", pd.Timestamp("2024-03-05T08:09Z"), rows.session_id.iloc[2], "Direct", 498.0],
    ]
    assert rows.session_id.iloc[2].startswith("auto:eve:")
    cart = ws.sql("select properties from events where event_id = 'a-2'").iloc[0, 0]
    assert cart["sku"] == "tent-2p" and cart["session_id"] == 1709625600000


def test_a_truncated_archive_loads_nothing_and_names_the_file(ws, tmp_path):
    path = write(tmp_path / "export.json.gz", LINES * 50)
    path.write_bytes(path.read_bytes()[:120])
    with pytest.raises(
        jl.DataError, match=r"export\.json\.gz: could not be loaded as a amplitude export"
    ):
        ws.load_events(path, source="amplitude")
    assert ws.info()["events"] == 0 and ws.info()["rejected"] == 0
