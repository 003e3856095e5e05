"""Generic CSV / Parquet loads with a column mapping: golden rows and bad input."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import journeylib as jl

MAPPING = {
    "user_id": "uid",
    "anonymous_id": "anon",
    "event_name": "event",
    "event_time": "ts",
    "revenue": "price",
    "source": "utm_source",
    "medium": "utm_medium",
}
HEADER = "uid,anon,event,ts,price,utm_source,utm_medium,plan\n"


def write(tmp_path: Path, body: str, name: str = "events.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_rows_land_canonical_with_unmapped_columns_in_properties(ws, tmp_path):
    path = write(tmp_path, "u1,a1,view,2024-01-01T10:00:00+02:00,9.5,google,cpc,pro\n")
    report = ws.load_events(path, mapping=MAPPING)
    assert (report.rows, report.loaded, report.rejected) == (1, 1, 0)
    row = ws.sql("select *, properties.plan::varchar as plan from events").iloc[0]
    assert row.user_id == "u1" and row.anonymous_id == "a1" and row.event_name == "view"
    # 10:00 at +02:00 is 08:00 UTC
    assert row.event_time == pd.Timestamp("2024-01-01T08:00:00Z")
    assert row.revenue == 9.5 and row.plan == "pro"
    assert row.channel == "Paid Search"


def test_bad_rows_are_rejected_with_row_field_and_reason_and_the_rest_loads(ws, tmp_path):
    path = write(
        tmp_path,
        "u1,,view,2024-01-01T10:00:00Z,,,,\n"
        "u2,,view,yesterday,,,,\n"
        ",,view,2024-01-01T10:00:00Z,,,,\n"
        "u3,,,2024-01-01T10:00:00Z,,,,\n"
        "u4,,buy,2024-01-01T10:00:00Z,ten,,,\n",
    )
    report = ws.load_events(path, mapping=MAPPING)
    assert report.loaded == 1
    rejected = report.rejected_rows[["row", "field", "reason"]].values.tolist()
    assert rejected == [
        [2, "ts", "not a valid timestamp: yesterday"],
        [3, "uid", "no user id or anonymous id"],
        [4, "event", "missing event name"],
        [5, "price", "not a number: ten"],
    ]
    assert ws.sql("select count(*) from rejected").iloc[0, 0] == 4


def test_reloading_the_same_file_is_a_no_op(ws, tmp_path):
    path = write(tmp_path, "u1,,view,2024-01-01T10:00:00Z,,,,\n")
    ws.load_events(path, mapping=MAPPING)
    again = ws.load_events(path, mapping=MAPPING)
    assert again.files[0].status == "skipped (already loaded)"
    assert ws.info()["events"] == 1


def test_overlapping_exports_dedupe_on_event_id(ws, tmp_path):
    first = write(
        tmp_path, "u1,,view,2024-01-01T10:00:00Z,,,,\nu1,,cart,2024-01-01T10:05:00Z,,,,\n", "a.csv"
    )
    second = write(
        tmp_path, "u1,,cart,2024-01-01T10:05:00Z,,,,\nu1,,buy,2024-01-01T10:09:00Z,,,,\n", "b.csv"
    )
    ws.load_events([first, second], mapping=MAPPING)
    assert ws.info()["events"] == 3
    assert ws.sql("select duplicates from loads order by origin")["duplicates"].tolist() == [0, 1]


def test_identified_device_moves_its_anonymous_events_to_the_person(ws, tmp_path):
    path = write(
        tmp_path,
        ",dev9,view,2024-01-01T10:00:00Z,,,,\n"
        ",dev9,cart,2024-01-01T10:01:00Z,,,,\n"
        "alice,dev9,signup,2024-01-01T10:02:00Z,,,,\n",
    )
    ws.load_events(path, mapping=MAPPING)
    users = ws.sql("select distinct user_id from events")["user_id"].tolist()
    assert users == ["alice"]


def test_sessions_split_after_thirty_minutes_of_inactivity(ws, tmp_path):
    path = write(
        tmp_path,
        "u1,,a,2024-01-01T10:00:00Z,,,,\n"
        "u1,,b,2024-01-01T10:30:00Z,,,,\n"  # exactly 30 min later: same session
        "u1,,c,2024-01-01T11:00:00.000001Z,,,,\n",  # 30 min + 1 us: a new session
    )
    ws.load_events(path, mapping=MAPPING)
    sessions = ws.sql("select session_id from events order by event_time")["session_id"].tolist()
    start = int(pd.Timestamp("2024-01-01T10:00:00Z").timestamp() * 1000)
    assert sessions[:2] == [f"auto:u1:{start}"] * 2
    assert sessions[2] == f"auto:u1:{start + 3_600_000}"


def test_naive_timestamps_are_read_in_the_given_zone_and_reported(ws, tmp_path):
    path = write(tmp_path, "u1,,view,2024-07-01 10:00:00,,,,\n")
    report = ws.load_events(path, mapping=MAPPING, tz="Europe/Berlin")
    assert [n for n in report.notes if "Direct" not in n] == [
        f"{path}: 1 timestamps had no time zone and were read as Europe/Berlin"
    ]
    # Berlin is UTC+2 in July
    assert ws.sql("select event_time from events").iloc[0, 0] == pd.Timestamp("2024-07-01T08:00Z")


def test_a_mapped_column_missing_from_the_file_names_the_file_and_the_closest_column(ws, tmp_path):
    path = write(tmp_path, "u1,,view,2024-01-01T10:00:00Z,,,,\n")
    with pytest.raises(jl.DataError, match=r"events\.csv.*field evnt.*did you mean 'event'"):
        ws.load_events(path, mapping={**MAPPING, "event_name": "evnt"})
    assert ws.info()["events"] == 0


def test_sql_injection_in_names_and_values_is_data(ws, tmp_path):
    evil = "'; drop table events; --"
    path = tmp_path / "we'ird; drop.csv"
    path.write_text(f'uid,event,ts,"{evil}"\n"{evil}","{evil}",2024-01-01T10:00:00Z,x\n', "utf-8")
    ws.load_events(path, mapping={"user_id": "uid", "event_name": "event", "event_time": "ts"})
    row = ws.sql("select user_id, event_name, properties from events").iloc[0]
    assert row.user_id == evil and row.event_name == evil
    assert evil in row.properties


def test_parquet_with_typed_timestamps(ws, tmp_path):
    frame = pd.DataFrame(
        {
            "uid": ["u1", "u2"],
            "event": ["view", "buy"],
            "ts": pd.to_datetime(["2024-01-01T10:00:00", "2024-01-02T10:00:00"]),
            "amount": [1.5, 2.5],
        }
    )
    path = tmp_path / "events.parquet"
    frame.to_parquet(path)
    report = ws.load_events(
        path,
        source="parquet",
        mapping={"user_id": "uid", "event_name": "event", "event_time": "ts"},
    )
    assert report.loaded == 2
    assert report.notes  # naive timestamps taken as UTC, said so
    got = ws.sql("select event_time, properties.amount::double as amount from events order by 1")
    assert got.amount.tolist() == [1.5, 2.5]
    assert got.event_time.tolist() == [
        pd.Timestamp("2024-01-01T10:00Z"),
        pd.Timestamp("2024-01-02T10:00Z"),
    ]


def test_empty_file_is_a_clear_error(ws, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(jl.DataError, match=r"empty\.csv: the file is empty"):
        ws.load_events(path, mapping=MAPPING)


def test_a_canonical_file_keeps_its_json_properties_and_rejects_broken_ones(ws, tmp_path):
    path = tmp_path / "canonical.csv"
    path.write_text(
        "user_id,event_name,event_time,properties,plan\n"
        'u1,view,2024-01-01T10:00:00Z,"{""device"": ""mobile""}",pro\n'
        "u2,view,2024-01-01T10:00:00Z,{broken,pro\n",
        "utf-8",
    )
    report = ws.load_events(path)
    assert report.loaded == 1
    assert report.rejected_rows[["row", "field", "reason"]].values.tolist() == [
        [2, "properties", "not a JSON object"]
    ]
    props = ws.sql(
        "select properties.device::varchar as device, properties.plan::varchar as plan from events"
    )
    assert props.values.tolist() == [["mobile", "pro"]]


def test_a_grown_export_under_the_same_name_loads_only_its_new_rows(ws, tmp_path):
    path = write(tmp_path, "u1,,view,2024-01-01T10:00:00Z,,,,\n")
    ws.load_events(path, mapping=MAPPING)
    path.write_text(
        HEADER + "u1,,view,2024-01-01T10:00:00Z,,,,\nu1,,buy,2024-01-01T11:00:00Z,,,,\n"
    )
    report = ws.load_events(path, mapping=MAPPING)
    assert (report.rows, report.loaded, report.duplicates) == (2, 1, 1)


def test_a_failure_mid_load_leaves_nothing_behind(ws, tmp_path, monkeypatch):
    from journeylib.core.errors import EngineError
    from journeylib.loading import ingest

    def broken(*args):  # fails after rows were inserted and rejected
        raise EngineError("disk full")

    monkeypatch.setattr(ingest, "_stitch", broken)
    path = write(tmp_path, "u1,,view,2024-01-01T10:00:00Z,,,,\nu2,,view,never,,,,\n")
    with pytest.raises(
        jl.DataError, match=r"events\.csv.*disk full.*Nothing from this file was loaded"
    ):
        ws.load_events(path, mapping=MAPPING)
    assert set(ws.tables().values()) == {0}
