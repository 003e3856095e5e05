"""Workspaces: files on disk, read-only opens, locks, scoping handles, the summary."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import pandas as pd
import pytest

import journeylib as jl

CSV = (
    "user_id,event_name,event_time,channel\n"
    "u1,view,2024-01-01T10:00:00Z,Email\n"
    "u1,buy,2024-01-03T10:00:00Z,Email\n"
    "u2,view,2024-02-01T10:00:00Z,Direct\n"
)


@pytest.fixture
def loaded(tmp_path: Path) -> jl.Workspace:
    path = tmp_path / "e.csv"
    path.write_text(CSV, "utf-8")
    ws = jl.open(tmp_path / "w.duckdb")
    ws.load_events(path)
    return ws


def test_info_summarises_events_users_range_and_rejects(loaded):
    info = loaded.info()
    assert (info["events"], info["users"], info["rejected"]) == (3, 2, 0)
    assert info["first_event"] == "2024-01-01T10:00:00+00:00"
    assert info["last_event"] == "2024-02-01T10:00:00+00:00"
    assert info["tables"]["loads"] == 1


def test_events_handle_scopes_without_changing_the_original(loaded):
    ev = loaded.events()
    assert ev.count() == 3
    assert ev.where(event_name="view").count() == 2
    assert ev.where(channel=["Email", "Direct"]).between("2024-01-02", "2024-02-01").count() == 1
    assert ev.where(lambda t: t.user_id == "u2").count() == 1
    assert ev.count() == 3
    frame = ev.to_pandas()
    assert frame.event_time.tolist()[0] == pd.Timestamp("2024-01-01T10:00Z")


def test_unknown_columns_and_bad_dates_are_parameter_errors(loaded):
    ev = loaded.events()
    with pytest.raises(
        jl.ParameterError, match=r"'event_nam' for parameter 'where'.*Did you mean 'event_name'"
    ):
        ev.where(event_nam="view")
    with pytest.raises(jl.ParameterError, match=r"parameter 'start'"):
        ev.between("not a date", None)


def test_unknown_source_suggests_the_closest(loaded, tmp_path):
    with pytest.raises(jl.ParameterError, match=r"Did you mean 'segment'"):
        loaded.load_events(tmp_path / "x.json", source="segmnt")


def test_unknown_time_zone_is_refused(loaded, tmp_path):
    with pytest.raises(jl.ParameterError, match=r"parameter 'tz'"):
        loaded.load_events(tmp_path / "x.csv", tz="Mars/Olympus")


@pytest.mark.parametrize("read_only", [False, True])
def test_a_workspace_held_by_another_process_gives_a_clear_message(loaded, tmp_path, read_only):
    # the fixture's workspace holds the file for writing, as during a load; another process
    # tries to open it (between loads it may: tests/test_readers.py)
    code = (
        "import journeylib as jl, sys\n"
        f"try:\n    jl.open(sys.argv[1], read_only={read_only})\n"
        "except jl.WorkspaceError as err:\n    print(err)\n"
    )
    with loaded.engine.writing():
        out = subprocess.run(
            [sys.executable, "-c", code, str(tmp_path / "w.duckdb")],
            capture_output=True,
            text=True,
        )
    assert "is open for writing in another process" in out.stdout
    assert "Close it there" in out.stdout
    assert "read_only=True" not in out.stdout  # DuckDB refuses a reader too: no false advice


def test_a_file_that_is_not_a_workspace_is_named(tmp_path):
    path = tmp_path / "notes.duckdb"
    path.write_text("not a database")
    with pytest.raises(jl.WorkspaceError, match=r"notes\.duckdb is not a DuckDB workspace file"):
        jl.open(path)


def test_read_only_workspace_does_not_exist_yet(tmp_path):
    with pytest.raises(jl.JourneyError, match=r"No workspace at .*nothing\.duckdb"):
        jl.open(tmp_path / "nothing.duckdb", read_only=True)


def test_progress_bars_show_in_jupyter_but_never_inside_a_report(monkeypatch):
    from journeylib.core.engine import Engine
    from journeylib.faces.report import settings_source

    def progress() -> bool:
        return Engine.connect(None).scalar("select current_setting('enable_progress_bar')")

    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    assert progress() is True
    with jl.option_context():
        exec(settings_source({"progress": "off"}))  # what a report's kernel runs first
        assert progress() is False
    assert progress() is True
    monkeypatch.delitem(sys.modules, "ipykernel")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    assert progress() is False  # a scheduled run writing to a log file
    with jl.option_context(progress="on"):
        assert progress() is True
