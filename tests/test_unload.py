"""Files that load nothing are not loaded; unloading a file undoes exactly its load.

The oracle for unloading is the workspace that never loaded the file: loading
A and B and then unloading A must leave what loading B alone leaves, events,
people, stitched identities and derived sessions alike.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import journeylib as jl
from journeylib.faces.cli import main

EVENTS = (
    "user_id,event_name,event_time\nu1,open,2024-01-01T10:00:00Z\nu1,buy,2024-01-01T11:00:00Z\n"
)

# A: the device d1 identifies as alice (and one row is rejected)
IDENTIFYING = (
    "user_id,anonymous_id,event_name,event_time\n"
    "alice,d1,signed_up,2024-01-01T10:20:00Z\n"
    ",d9,open,not a time\n"
)
# B: d1 browses anonymously around the sign-up; d2 never identifies
BROWSING = (
    "user_id,anonymous_id,event_name,event_time\n"
    ",d1,open,2024-01-01T10:00:00Z\n"
    ",d1,view,2024-01-01T10:10:00Z\n"
    ",d1,buy,2024-01-01T10:45:00Z\n"
    "alice,,open,2024-01-01T10:50:00Z\n"
    ",d2,open,2024-01-02T09:00:00Z\n"
)
MAPPING = {"anonymous_id": "anonymous_id"}


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def state(ws: jl.Workspace) -> dict[str, list[tuple[object, ...]]]:
    """Everything loading changes, origins aside, in a comparable form."""
    return {
        "events": ws.sql(
            "select event_id, user_id, anonymous_id, event_time, event_name, session_id"
            " from events order by event_id"
        ).values.tolist(),
        "identities": ws.sql(
            "select anonymous_id, user_id from identities order by 1"
        ).values.tolist(),
        "rejected": ws.sql("select row, field from rejected order by 1").values.tolist(),
    }


@pytest.mark.parametrize(
    ("name", "text", "source", "likely"),
    [
        ("events.csv", EVENTS, "ga4", "csv"),
        (
            "events.jsonl",
            '{"type": "track", "event": "open", "userId": "u1"}\n',
            "mixpanel",
            "segment",
        ),
        (
            "events.ndjson",
            '{"event_timestamp": "1704103200000000", "event_name": "x", "user_pseudo_id": "p"}\n',
            "amplitude",
            "ga4",
        ),
    ],
)
def test_a_file_loaded_under_the_wrong_source_loads_nothing_and_names_the_likely_one(
    ws, tmp_path, name, text, source, likely
):
    path = write(tmp_path, name, text)
    with pytest.raises(jl.DataError, match=rf"none of its \d rows.*looks like a {likely} export"):
        ws.load_events(path, source=source)
    assert {t: n for t, n in ws.tables().items() if n} == {}  # ledger, events, rejected untouched


def test_the_corrected_load_after_a_wrong_source_reads_the_file(tmp_path, capsys):
    db = str(tmp_path / "w.duckdb")
    path = str(write(tmp_path, "events.csv", EVENTS))
    assert main(["load", "--db", db, "--source", "ga4", path]) == 2
    err = capsys.readouterr().err
    assert "--source csv" in err and "not recorded as loaded" in err
    assert main(["load", "--db", db, "--source", "csv", path]) == 0
    assert "loaded, 2 rows, 2 loaded" in capsys.readouterr().out


def test_a_file_whose_rows_are_all_duplicates_is_still_recorded(ws, tmp_path):
    ws.load_events(write(tmp_path, "a.csv", EVENTS))
    report = ws.load_events(write(tmp_path, "b.csv", EVENTS + "\n"))  # other bytes, same events
    assert (report.loaded, report.duplicates) == (0, 2)
    assert ws.tables()["loads"] == 2


@pytest.mark.parametrize("order", ["identifying first", "browsing first"])
def test_unloading_a_file_leaves_what_never_loading_it_leaves(tmp_path, order):
    identifying = write(tmp_path, "a.csv", IDENTIFYING)
    browsing = write(tmp_path, "b.csv", BROWSING)
    alone = jl.open()
    alone.load_events(browsing, mapping=MAPPING)
    both = jl.open()
    files = [identifying, browsing] if order == "identifying first" else [browsing, identifying]
    for path in files:
        both.load_events(path, mapping=MAPPING)
    before = state(both)
    assert before["identities"] == [["d1", "alice"]]
    assert {u for _, u, *_ in before["events"]} == {"alice", "d2"}  # d1's events stitched

    report = both.unload(identifying)

    assert state(both) == state(alone)
    assert {u for _, u, *_ in state(both)["events"]} == {"alice", "d1", "d2"}
    assert report.removed["events"] == 1 and report.removed["rejected"] == 1
    assert report.removed["loads"] == 1 and report.removed["identities"] == 1
    # and loading it again reads it afresh, back to where it was
    assert both.load_events(identifying, mapping=MAPPING).loaded == 1
    assert state(both)["events"] == before["events"]


def test_an_identity_another_file_also_shows_is_kept(tmp_path):
    first = write(tmp_path, "a.csv", IDENTIFYING)
    second = write(tmp_path, "c.csv", IDENTIFYING.replace("10:20", "12:00"))
    ws = jl.open()
    ws.load_events(write(tmp_path, "b.csv", BROWSING), mapping=MAPPING)
    ws.load_events(first, mapping=MAPPING)
    ws.load_events(second, mapping=MAPPING)
    ws.unload(first)
    assert state(ws)["identities"] == [["d1", "alice"]]
    ws.unload(second)
    assert state(ws)["identities"] == []
    assert "d1" in {u for _, u, *_ in state(ws)["events"]}


def test_unloading_names_later_files_that_shared_its_events(ws, tmp_path):
    ws.load_events(write(tmp_path, "a.csv", EVENTS))
    ws.load_events(write(tmp_path, "b.csv", EVENTS + "u2,open,2024-01-03T10:00:00Z\n"))
    report = ws.unload(tmp_path / "a.csv")
    assert report.removed["events"] == 2 and ws.info()["events"] == 1
    assert len(report.notes) == 1 and "b.csv skipped 2 rows" in report.notes[0]


def test_a_file_is_found_by_its_path_written_another_way_or_its_bytes(ws, tmp_path, monkeypatch):
    path = write(tmp_path, "a.csv", EVENTS)
    ws.load_events(path)
    monkeypatch.chdir(tmp_path)
    assert ws.unload("./a.csv").origins == [str(path)]
    ws.load_events(path)
    copy = write(tmp_path, "copy.csv", EVENTS)
    assert ws.unload(copy).origins == [str(path)]
    ws.load_events(path)
    with pytest.raises(jl.ParameterError, match=r"No file of this name.*Did you mean"):
        ws.unload(str(path) + "x")


def test_unload_command_exit_codes(tmp_path, capsys):
    db = str(tmp_path / "w.duckdb")
    path = str(write(tmp_path, "events.csv", EVENTS))
    assert main(["load", "--db", db, "--source", "csv", path]) == 0
    capsys.readouterr()
    assert main(["unload", "--db", db, path]) == 0
    assert "unloaded; removed 2 events, 1 loads" in capsys.readouterr().out
    assert main(["unload", "--db", db, path]) == 2
    assert main(["unload", "--db", str(tmp_path / "none.duckdb"), path]) == 2
    assert not (tmp_path / "none.duckdb").exists()
    assert pd.DataFrame(jl.open(db, read_only=True).tables(), index=[0]).loads.item() == 0
