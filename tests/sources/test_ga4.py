"""GA4 BigQuery export, NDJSON and Parquet: the golden case of tests/golden/ga4/README.md."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

GOLDEN = "tests/golden/ga4/events_20240301.ndjson"

EXPECTED = [
    # event_name, user_id, session_id, source, medium, campaign, channel, revenue
    ["session_start", "alice", "d1:1001", "google", "cpc", "spring", "Paid Search", None],
    ["view_item", "alice", "d1:1001", None, None, None, "Direct", None],
    ["sign_up", "alice", "d1:1001", None, None, None, "Direct", None],
    ["purchase", "alice", "d1:1001", None, None, None, "Direct", 49.9],
    ["page_view", "d2", "d2:2002", "google", "cpc", None, "Paid Search", None],
    ["page_view", "d3", "d3:3003", "newsletter", "email", "march", "Email", None],
    ["page_view", "d4", "d4:4004", "google", "organic", "(organic)", "Organic Search", None],
]


def canonical(ws) -> list[list[object]]:
    frame = ws.sql(
        "select event_name, user_id, session_id, source, medium, campaign, channel, revenue"
        " from events order by event_time, event_name"
    )
    return [[None if pd.isna(v) else v for v in row] for row in frame.values.tolist()]


def test_golden_ndjson(ws):
    report = ws.load_events(GOLDEN, source="ga4")
    assert (report.rows, report.loaded, report.rejected) == (9, 7, 2)
    assert canonical(ws) == EXPECTED
    rejected = report.rejected_rows[["row", "field", "reason"]].values.tolist()
    assert rejected == [
        [8, "line", "not valid JSON (a truncated or corrupted line)"],
        [9, "event_timestamp", "not a valid timestamp: yesterday"],
    ]
    first = ws.sql("select event_time from events order by event_time limit 1").iloc[0, 0]
    assert first == pd.Timestamp("2024-03-01T09:00:00Z")


def test_properties_keep_typed_params_and_everything_else(ws):
    ws.load_events(GOLDEN, source="ga4")
    props = json.loads(
        ws.sql("select properties from events where event_name = 'view_item'").iloc[0, 0]
    )
    assert props["engagement_time_msec"] == 5400 and props["price"] == 49.9
    assert props["items"] == [{"item_id": "sku-1", "price": 49.9, "quantity": 1}]
    assert "event_params" not in props and props["event_date"] == "20240301"
    bought = json.loads(
        ws.sql("select properties from events where event_name = 'purchase'").iloc[0, 0]
    )
    assert bought["user_properties"] == {"plan": "pro"}
    assert bought["ecommerce"]["transaction_id"] == "T-1"


def test_gzipped_and_parquet_exports_give_the_same_events(ws, tmp_path):
    gz = tmp_path / "events.ndjson.gz"
    gz.write_bytes(gzip.compress(Path(GOLDEN).read_bytes()))
    ws.load_events(gz, source="ga4")
    assert canonical(ws) == EXPECTED

    # Parquet with GA4's real nested types, written from the valid lines
    valid = tmp_path / "valid.ndjson"
    with open(GOLDEN) as source, open(valid, "w") as target:
        for line in source:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if str(row["event_timestamp"]).isdigit():
                row["event_timestamp"] = int(row["event_timestamp"])
                target.write(json.dumps(row) + "\n")
    parquet = tmp_path / "events.parquet"
    ga4_params = (
        "STRUCT(key VARCHAR, value STRUCT(string_value VARCHAR, int_value BIGINT,"
        " float_value DOUBLE, double_value DOUBLE))[]"
    )
    duckdb.sql(
        f"copy (select * replace (cast(event_params as {ga4_params}) as event_params)"
        f" from read_json('{valid}')) to '{parquet}' (format parquet)"
    )
    types = duckdb.sql(
        f"select typeof(event_params), typeof(event_timestamp) from '{parquet}' limit 1"
    )
    assert types.fetchall()[0] == (
        ga4_params.replace("key", '"key"').replace("value STRUCT", '"value" STRUCT'),
        "BIGINT",
    )
    import journeylib as jl

    other = jl.open()
    assert other.load_events(parquet, source="ga4").loaded == 7
    assert canonical(other) == EXPECTED


def test_reload_is_a_no_op_and_a_copy_under_another_name_too(ws, tmp_path):
    ws.load_events(GOLDEN, source="ga4")
    copy = tmp_path / "copy.ndjson"
    shutil.copy(GOLDEN, copy)
    again = ws.load_events([GOLDEN, copy], source="ga4")
    assert [f.status for f in again.files] == ["skipped (already loaded)"] * 2
    assert ws.info()["events"] == 7


def test_a_corrupt_gzip_loads_nothing_and_names_the_file(ws, tmp_path):
    broken = tmp_path / "events.ndjson.gz"
    broken.write_bytes(gzip.compress(Path(GOLDEN).read_bytes())[:200])
    import journeylib as jl

    with pytest.raises(
        jl.DataError, match=r"events\.ndjson\.gz: could not be loaded as a ga4 export"
    ):
        ws.load_events(broken, source="ga4")
    assert ws.info()["events"] == 0 and ws.info()["rejected"] == 0
