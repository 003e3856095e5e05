"""Issue #26 step 7: readers read while a notebook has the workspace open.

DuckDB lets one process write a file only while no other process has it open,
and lets many processes read it. A workspace opened to write holds its file
read-only and for writing only while it loads or unloads.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import journeylib as jl
from journeylib.faces.cli import main

CSV = (
    "user_id,event_name,event_time\n"
    "u1,view,2024-01-01T10:00:00Z\n"
    "u1,buy,2024-01-01T11:00:00Z\n"
    "u2,view,2024-01-02T10:00:00Z\n"
)
MORE = "user_id,event_name,event_time\nu3,view,2024-01-03T10:00:00Z\n"


@pytest.fixture
def notebook(tmp_path: Path) -> jl.Workspace:
    """A workspace as a notebook holds it: opened to write, with events loaded."""
    (tmp_path / "e.csv").write_text(CSV)
    ws = jl.open(tmp_path / "w.duckdb")
    ws.load_events(tmp_path / "e.csv")
    yield ws
    ws.close()


def other_process(code: str, db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import journeylib as jl, sys, json\n" + code, str(db)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The journeylib command in another process."""
    code = "import sys; from journeylib.faces.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120
    )


def test_the_cli_and_other_notebooks_read_while_a_notebook_has_it_open(notebook, tmp_path):
    db = tmp_path / "w.duckdb"
    info = cli("info", "--db", str(db), "--format", "json")
    assert info.returncode == 0, info.stderr
    assert json.loads(info.stdout)["events"] == 3
    funnel = cli("funnel", "--db", str(db), "--steps", "view,buy")
    assert funnel.returncode == 0, funnel.stderr
    assert funnel.stdout.splitlines()[1].startswith("1,view,2,")  # both viewed; u1 bought
    # another notebook, read-only or not, opens and reads it too
    both = other_process(
        "a = jl.open(sys.argv[1], read_only=True); b = jl.open(sys.argv[1])\n"
        "print(a.info()['events'], b.events().count())",
        db,
    )
    assert both.stdout.split() == ["3", "3"], both.stderr
    assert notebook.info()["events"] == 3  # and the notebook reads on


def test_a_load_while_others_read_says_who_holds_it_and_the_notebook_reads_on(notebook, tmp_path):
    db = tmp_path / "w.duckdb"
    (tmp_path / "more.csv").write_text(MORE)
    ev = notebook.events()  # a handle taken before the loads
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import journeylib as jl, sys\nws = jl.open(sys.argv[1], read_only=True)\n"
            "print('ready', flush=True)\nsys.stdin.read()",
            str(db),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout is not None and reader.stdout.readline().strip() == "ready"
        with pytest.raises(jl.WorkspaceError, match="is open in another process") as raised:
            notebook.load_events(tmp_path / "more.csv")
        assert "Close it there (ws.close() in a notebook)" in str(raised.value)
        assert ev.count() == 3  # still reading, nothing half-loaded
    finally:
        reader.communicate("", timeout=60)
    notebook.engine.execute("SET threads = 1")  # a setting of the analyst's session
    notebook.load_events(tmp_path / "more.csv")  # the reader is gone: the load goes through
    assert ev.count() == 4  # the earlier handle sees the new rows
    assert notebook.engine.scalar("select current_setting('access_mode')") == "read_only"
    assert notebook.engine.scalar("select current_setting('threads')") == 1  # kept


def test_a_read_only_workspace_refuses_to_load_and_says_how(notebook, tmp_path):
    notebook.close()
    reader = jl.open(tmp_path / "w.duckdb", read_only=True)
    with pytest.raises(jl.WorkspaceError, match=r"opened with read_only=True"):
        reader.load_events(tmp_path / "e.csv")
    with pytest.raises(jl.WorkspaceError, match=r"opened with read_only=True"):
        reader.unload(tmp_path / "e.csv")
    assert reader.info()["events"] == 3


def test_inside_a_read_only_report_run_every_workspace_reads_only(notebook, tmp_path):
    notebook.close()
    with jl.option_context(read_only=True):  # as a read-only report's kernel has it
        ws = jl.open(tmp_path / "w.duckdb")
        assert ws.engine.read_only
        with pytest.raises(jl.WorkspaceError, match=r"read_only=True \(--read-only\)"):
            ws.load_events(tmp_path / "e.csv")
        ws.close()
    assert not jl.open(tmp_path / "w.duckdb").engine.read_only


def test_the_report_command_takes_read_only(monkeypatch, tmp_path):
    import journeylib.faces.report as report

    seen: dict[str, object] = {}

    def run_report(notebook, parameters, out, **options):
        seen.update(options)
        return Path(out)

    monkeypatch.setattr(report, "run_report", run_report)
    assert main(["report", "nb.ipynb", "--out", str(tmp_path / "r"), "--read-only"]) == 0
    assert seen["read_only"] is True
    assert main(["report", "nb.ipynb", "--out", str(tmp_path / "r")]) == 0
    assert seen["read_only"] is False
