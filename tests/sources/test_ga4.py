"""GA4 BigQuery export, NDJSON and Parquet: the golden case of tests/golden/ga4/README.md."""

from __future__ import annotations

import csv
import gzip
import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import journeylib as jl

FOLDER = Path(__file__).parent.parent / "golden" / "ga4"
GOLDEN = FOLDER / "events_20240301.ndjson"
COLUMNS = "event_name, user_id, anonymous_id, event_time, session_id, source, medium, campaign, channel, revenue"
#: GA4's event_params type in BigQuery (and so in its Parquet export)
GA4_PARAMS = (
    "STRUCT(key VARCHAR, value STRUCT(string_value VARCHAR, int_value BIGINT,"
    " float_value DOUBLE, double_value DOUBLE))[]"
)


def expected() -> list[list[object]]:
    """The hand-worked rows of expected_events.csv (empty cell = NULL, revenue a number)."""
    with open(FOLDER / "expected_events.csv", newline="") as file:
        rows = [[cell or None for cell in row] for row in list(csv.reader(file))[1:]]
    return [[*row[:9], None if row[9] is None else float(row[9])] for row in rows]


def canonical(ws: jl.Workspace) -> list[list[object]]:
    frame = ws.sql(
        f"select {COLUMNS.replace('event_time', 'strftime(event_time, ' + repr('%Y-%m-%dT%H:%M:%SZ') + ')')}"
        " from events order by event_time, event_name"
    )
    return [[None if pd.isna(v) else v for v in row] for row in frame.values.tolist()]


def golden_parquet(tmp_path: Path) -> Path:
    """The golden file's valid rows as Parquet with GA4's nested types (INT64 timestamps)."""
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
    parquet = tmp_path / "events_20240301.parquet"
    duckdb.sql(
        f"copy (select * replace (cast(event_params as {GA4_PARAMS}) as event_params)"
        f" from read_json('{valid}')) to '{parquet}' (format parquet)"
    )
    return parquet


def test_golden_ndjson_matches_expected_csv(ws):
    report = ws.load_events(GOLDEN, source="ga4")
    # 10 lines: 8 events, the truncated line 8 and the bad timestamp of line 9 rejected
    assert (report.rows, report.loaded, report.rejected) == (10, 8, 2)
    assert canonical(ws) == expected()
    rejected = report.rejected_rows[["row", "field", "reason"]].values.tolist()
    assert rejected == [
        [8, "line", "not valid JSON (a truncated or corrupted line)"],
        [9, "event_timestamp", "not a valid timestamp: yesterday"],
    ]


def test_golden_parquet_with_nested_types_matches_expected_csv(ws, tmp_path):
    parquet = golden_parquet(tmp_path)
    types = duckdb.sql(
        f"select typeof(event_params), typeof(event_timestamp) from '{parquet}' limit 1"
    )
    assert types.fetchall()[0] == (
        GA4_PARAMS.replace("key", '"key"').replace("value STRUCT", '"value" STRUCT'),
        "BIGINT",
    )
    report = ws.load_events(parquet, source="ga4")
    assert (report.loaded, report.rejected) == (8, 0)
    assert canonical(ws) == expected()


def test_gzipped_ndjson_matches_expected_csv(ws, tmp_path):
    gz = tmp_path / "events_20240301.ndjson.gz"
    gz.write_bytes(gzip.compress(GOLDEN.read_bytes()))
    assert ws.load_events(gz, source="ga4").rejected == 2
    assert canonical(ws) == expected()


def test_properties_keep_typed_params_and_everything_else(ws):
    ws.load_events(GOLDEN, source="ga4")

    def props(name: str) -> dict[str, object]:
        query = "select properties from events where event_name = ?"
        return dict(ws.sql(query, [name]).iloc[0, 0])

    viewed = props("view_item")
    # int_value "5400" (a JSON string in BigQuery's export) becomes the number 5400
    assert viewed["engagement_time_msec"] == 5400 and type(viewed["engagement_time_msec"]) is int
    assert viewed["ga_session_id"] == 1001
    assert viewed["price"] == 49.9 and viewed["percent_scrolled"] == 0.5
    assert viewed["items"] == [{"item_id": "sku-1", "price": 49.9, "quantity": 1}]
    assert "event_params" not in viewed and viewed["event_date"] == "20240301"
    assert props("session_start")["page_location"] == "https://shop.example/"
    bought = props("purchase")
    assert bought["user_properties"] == {"plan": "pro"}
    assert bought["ecommerce"] == {"purchase_revenue": 49.9, "transaction_id": "T-1"}
    lead = props("generate_lead")
    assert lead["form_id"] == "contact" and lead["event_value_in_usd"] == 12.5
    assert (lead["device"], lead["geo"]) == ({"category": "desktop"}, {"country": "France"})
    assert (lead["platform"], lead["stream_id"]) == ("WEB", "42")
    assert lead["traffic_source"] == {"name": "(direct)", "medium": "(none)", "source": "(direct)"}


def test_events_differing_only_in_a_param_get_different_ids(ws, tmp_path):
    first = json.loads(GOLDEN.read_text().splitlines()[1])
    second = json.loads(json.dumps(first))
    second["event_params"][1]["value"]["int_value"] = "5401"  # engagement_time_msec
    path = tmp_path / "twins.ndjson"
    path.write_text(json.dumps(first) + "\n" + json.dumps(second) + "\n")
    assert ws.load_events(path, source="ga4").loaded == 2
    assert ws.sql("select count(distinct event_id) from events").iloc[0, 0] == 2


def test_the_user_who_signs_up_is_stitched_back_to_her_first_visit(ws):
    ws.load_events(GOLDEN, source="ga4")
    # d1's session_start and view_item came before user_id "alice" was set (line 3)
    people = ws.sql(
        "select anonymous_id, list(distinct user_id) as users from events group by 1 order by 1"
    )
    assert people.values.tolist() == [
        ["d1", ["alice"]],
        ["d2", ["d2"]],
        ["d3", ["d3"]],
        ["d4", ["d4"]],
    ]
    assert ws.info()["users"] == 4


def test_reload_is_a_no_op_and_a_copy_under_another_name_too(ws, tmp_path):
    ws.load_events(GOLDEN, source="ga4")
    copy = tmp_path / "copy.ndjson"
    shutil.copy(GOLDEN, copy)
    again = ws.load_events([GOLDEN, copy], source="ga4")
    assert [f.status for f in again.files] == ["skipped (already loaded)"] * 2
    assert ws.info()["events"] == 8 and ws.info()["rejected"] == 2


def test_a_truncated_last_line_is_rejected_and_the_rest_loads(ws, tmp_path):
    lines = GOLDEN.read_text().splitlines()
    cut = tmp_path / "cut.ndjson"
    # lines 1-7 whole, then line 10 cut in the middle with no newline (an interrupted export)
    cut.write_text("\n".join(lines[:7]) + "\n" + lines[9][:60])
    report = ws.load_events(cut, source="ga4")
    assert (report.loaded, report.rejected) == (7, 1)
    assert report.rejected_rows[["row", "field"]].values.tolist() == [[8, "line"]]
    assert canonical(ws) == expected()[:7]


def test_missing_fields_and_bad_timestamps_are_rejected_by_their_ga4_field(ws, tmp_path):
    row = json.loads(GOLDEN.read_text().splitlines()[0])
    nameless = {k: v for k, v in row.items() if k != "event_name"}
    timeless = {k: v for k, v in row.items() if k != "event_timestamp"}
    lines = [
        nameless,
        timeless,
        {**row, "event_timestamp": "2024-03-01T09:00:00Z"},
        {**row, "event_timestamp": True},
        row,  # one good row: a file none of whose rows load is refused whole
    ]
    path = tmp_path / "bad.ndjson"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    report = ws.load_events(path, source="ga4")
    assert report.loaded == 1
    assert report.rejected_rows[["row", "field", "reason"]].values.tolist() == [
        [1, "event_name", "missing event name"],
        [2, "event_timestamp", "missing timestamp"],
        [3, "event_timestamp", "not a valid timestamp: 2024-03-01T09:00:00Z"],
        [4, "event_timestamp", "not a valid timestamp: true"],
    ]


def test_a_corrupt_gzip_loads_nothing_and_names_the_file(ws, tmp_path):
    broken = tmp_path / "events.ndjson.gz"
    broken.write_bytes(gzip.compress(GOLDEN.read_bytes())[:200])
    with pytest.raises(
        jl.DataError, match=r"events\.ndjson\.gz: could not be loaded as a ga4 export"
    ):
        ws.load_events(broken, source="ga4")
    assert ws.info()["events"] == 0 and ws.info()["rejected"] == 0
