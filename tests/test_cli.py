"""The journeylib command: loads, summaries, exit codes and messages without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from journeylib.faces.cli import main

CSV = "uid,event,ts\nu1,view,2024-01-01T10:00:00Z\nu2,view,2024-01-02T10:00:00Z\nu2,buy,oops\n"
MAPPING = "user_id: uid\nevent_name: event\nevent_time: ts\n"


def files(tmp_path: Path) -> tuple[Path, Path]:
    events, mapping = tmp_path / "e.csv", tmp_path / "map.yml"
    events.write_text(CSV, "utf-8")
    mapping.write_text(MAPPING, "utf-8")
    return events, mapping


def test_load_then_info_json(tmp_path, capsys):
    events, mapping = files(tmp_path)
    db = str(tmp_path / "w.duckdb")
    assert (
        main(["load", "--db", db, "--source", "csv", "--mapping", str(mapping), str(events)]) == 0
    )
    assert "3 rows, 2 loaded, 0 duplicates, 1 rejected" in capsys.readouterr().out
    assert main(["info", "--db", db, "--format", "json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert {k: info[k] for k in ("events", "users", "rejected")} == {
        "events": 2,
        "users": 2,
        "rejected": 1,
    }
    assert info["first_event"] == "2024-01-01T10:00:00+00:00"
    assert info["last_event"] == "2024-01-02T10:00:00+00:00"


def test_bad_input_exits_2_with_a_message_and_no_traceback(tmp_path):
    events, _ = files(tmp_path)
    db = str(tmp_path / "w.duckdb")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "journeylib.faces.cli",
            "load",
            "--db",
            db,
            "--source",
            "csv",
            str(events),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "e.csv, field event_name: no column for event_name" in done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_source_exits_2_with_the_closest_name(tmp_path, capsys):
    events, _ = files(tmp_path)
    code = main(["load", "--db", str(tmp_path / "w.duckdb"), "--source", "ga5", str(events)])
    assert code == 2
    assert "Did you mean 'ga4'" in capsys.readouterr().err


def test_missing_workspace_exits_2(tmp_path, capsys):
    assert main(["info", "--db", str(tmp_path / "none.duckdb")]) == 2
    assert "No workspace at" in capsys.readouterr().err


def test_funnel_from_a_canonical_file_prints_the_stable_columns(tmp_path, capsys):
    path = tmp_path / "events.csv"
    path.write_text(
        "user_id,event_name,event_time\n"
        "a,view,2024-01-01T10:00:00Z\na,buy,2024-01-01T11:00:00Z\n"
        "b,view,2024-01-01T10:00:00Z\nb,buy,2024-01-09T10:00:00Z\n"
    )
    assert main(["funnel", "--events", str(path), "--steps", "view,buy", "--within", "7d"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "step_index,step,users,conversion_rate,step_conversion_rate",
        "1,view,2,1.0,1.0",
        "2,buy,1,0.5,0.5",  # b bought 8 days after the view: outside the 7-day window
    ]
    assert main(["funnel", "--events", str(path), "--steps", "view,buy", "--mode", "sloppy"]) == 2
    assert "Allowed values: ordered, strict, strict_increase, unordered" in capsys.readouterr().err


def test_funnel_over_a_stage_map_file_with_strict_mode_and_step_windows(tmp_path, capsys):
    path = tmp_path / "events.csv"
    path.write_text(
        "user_id,event_name,event_time,revenue\n"
        "a,view,2024-01-01T10:00:00Z,\na,buy,2024-01-01T10:30:00Z,80\n"
        "b,view,2024-01-01T10:00:00Z,\nb,buy,2024-01-01T12:00:00Z,20\n"
        "c,view,2024-01-01T10:00:00Z,\nc,home,2024-01-01T10:01:00Z,\nc,buy,2024-01-01T10:02:00Z,90\n"
    )
    stages = tmp_path / "stages.yml"
    stages.write_text("look: [view]\nbig_buy: {events: [buy], where: {revenue: {'>=': 50}}}\n")
    args = ["funnel", "--events", str(path), "--stages", str(stages), "--within", "1d"]
    # big buys: a (80) and c (90); b's buy is 20
    assert main(args) == 0
    assert capsys.readouterr().out.splitlines()[1:] == [
        "1,look,3,1.0,1.0",
        "2,big_buy,2,0.6666666666666666,0.6666666666666666",
    ]
    # strict: c looked at home between the view and the buy
    assert main([*args, "--mode", "strict"]) == 0
    assert capsys.readouterr().out.splitlines()[2].startswith("2,big_buy,1,")
    # the buy within 15 minutes of the view: c only (a bought after 30 minutes)
    assert main([*args, "--step-within", "15m"]) == 0
    assert capsys.readouterr().out.splitlines()[2].startswith("2,big_buy,1,")


def test_funnel_on_a_workspace_as_json(tmp_path, capsys):
    events, mapping = files(tmp_path)
    db = str(tmp_path / "w.duckdb")
    main(["load", "--db", db, "--source", "csv", "--mapping", str(mapping), str(events)])
    capsys.readouterr()
    assert main(["funnel", "--db", db, "--steps", "view,buy", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["step"], r["users"]) for r in rows] == [("view", 2), ("buy", 0)]


@pytest.mark.slow
def test_demo_loads_the_sample_and_publishes_the_report(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "ga4: 38815 rows loaded, 0 rejected" in out
    assert (tmp_path / "report" / "report.html").exists()
    funnel = (tmp_path / "report" / "tables" / "funnel.csv").read_text().splitlines()
    assert funnel[1].startswith("1,session_start,3000,") and funnel[-1].startswith(
        "6,purchase,1434,"
    )


JOURNEYS = (
    "user_id,event_name,event_time\n"
    "a,open,2024-01-01T10:00:00Z\na,view,2024-01-01T10:01:00Z\na,buy,2024-01-02T09:00:00Z\n"
    "b,open,2024-01-01T23:00:00Z\nb,view,2024-01-01T23:05:00Z\nb,open,2024-01-03T08:00:00Z\n"
    "c,open,2024-01-02T12:00:00Z\nc,buy,2024-01-02T12:30:00Z\n"
)


def test_paths_prints_the_stable_columns(tmp_path, capsys):
    events = tmp_path / "events.csv"
    events.write_text(JOURNEYS)
    code = main(
        ["paths", "--events", str(events), "--start", "open", "--steps", "2", "--conversion", "buy"]
    )
    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    # from each person's first open, two events: a and b go on to view, c buys straight away;
    # of a and b only a buys later
    assert lines == [
        "path,steps,users,share,conversion_rate",
        "open > view,2,2,0.6666666666666666,0.5",
        "open > buy,2,1,0.3333333333333333,1.0",
    ]


def test_retention_prints_the_stable_columns(tmp_path, capsys):
    events = tmp_path / "events.csv"
    events.write_text(JOURNEYS)
    code = main(
        [
            "retention",
            "--events",
            str(events),
            "--period",
            "day",
            "--periods",
            "1",
            "--format",
            "json",
        ]
    )
    rows = json.loads(capsys.readouterr().out)
    assert code == 0
    assert list(rows[0]) == ["cohort", "cohort_size", "period", "users", "rate"]
    # day cohorts: Jan 1 = {a, b} (a returns Jan 2, b not until Jan 3), Jan 2 = {c} (no return)
    assert [(r["cohort"], r["period"], r["users"], r["cohort_size"]) for r in rows] == [
        ("2024-01-01", 0, 2, 2),
        ("2024-01-01", 1, 1, 2),
        ("2024-01-02", 0, 1, 1),
        ("2024-01-02", 1, 0, 1),
        ("overall", 0, 3, 3),
        ("overall", 1, 1, 2),  # Jan 3 is not over when the data ends: c's cell is left out
    ]
    assert main(["retention", "--events", str(events), "--kind", "unbonded"]) == 2
    assert "Did you mean 'unbounded'" in capsys.readouterr().err
