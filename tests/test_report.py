"""Report runs: parameters checked first, atomic publish, failures leave the last report."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest

import journeylib as jl
from journeylib.faces.cli import main
from journeylib.faces.report import ReportError, notebook_parameters, run_report

pytestmark = pytest.mark.slow  # each runs notebooks through papermill

PARAMETERS = 'title: str = "Weekly"  # report title\nsteps: int = 3  # how many steps\nfail: bool = False  # fail on purpose'
BODY = [
    "import pandas as pd\nfrom journeylib.display.result import Result\nfrom journeylib.core.sql import SQL",
    "# a result whose table depends on the parameters\n"
    "Result(title, pd.DataFrame({'step': [f's{i}' for i in range(steps)], 'users': list(range(steps, 0, -1)),"
    " 'user_id': [f'person{i}' for i in range(steps)]}), SQL('select 1'))",
    "if fail:\n    raise ValueError('the data is broken')",
]


def notebook(tmp_path: Path, *more: str) -> Path:
    """The test report notebook, with ``more`` code cells at its end."""
    book = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(PARAMETERS)
    params.metadata["tags"] = ["parameters"]
    book.cells = [nbformat.v4.new_markdown_cell("# Test report"), params]
    book.cells += [nbformat.v4.new_code_cell(code) for code in [*BODY, *more]]
    book.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = tmp_path / "report.ipynb"
    nbformat.write(book, path)
    return path


def test_parameters_are_read_from_the_tagged_cell(tmp_path):
    declared = notebook_parameters(notebook(tmp_path))
    assert {name: p.type for name, p in declared.items()} == {
        "title": "str",
        "steps": "int",
        "fail": "bool",
    }
    assert declared["steps"].help == "how many steps"


def test_a_successful_run_publishes_notebook_html_tables_and_manifest(tmp_path):
    out = run_report(
        notebook(tmp_path),
        {"title": "Funnel", "steps": "4"},
        tmp_path / "out",
        min_cell_size=0,
        show_user_ids=True,
    )
    assert sorted(p.name for p in out.iterdir()) == [
        "manifest.json",
        "report.html",
        "report.ipynb",
        "tables",
    ]
    table = pd.read_csv(out / "tables" / "funnel.csv")
    assert table.users.tolist() == [4, 3, 2, 1]  # steps=4 reached the notebook as an int
    assert pd.read_parquet(out / "tables" / "funnel.parquet").step.tolist() == [
        "s0",
        "s1",
        "s2",
        "s3",
    ]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameters"] == {"title": "Funnel", "steps": 4}
    assert manifest["tables"] == [{"name": "Funnel", "file": "tables/funnel.csv", "rows": 4}]
    assert manifest["versions"]["duckdb"].startswith("2.")
    assert manifest["sharing"] == {"min_cell_size": 0, "show_user_ids": True}
    assert table.user_id.tolist() == ["person0", "person1", "person2", "person3"]


def test_a_report_hides_user_ids_and_blanks_cells_of_fewer_people_than_the_threshold(tmp_path):
    # steps=7 gives cells of 7, 6, ..., 1 people; with min_cell_size=3 the 2 and the 1 are hidden
    out = run_report(notebook(tmp_path), {"steps": "7"}, tmp_path / "out", min_cell_size=3)
    table = pd.read_csv(out / "tables" / "weekly.csv")
    assert "user_id" not in table.columns
    assert table.step.tolist() == [f"s{i}" for i in range(7)]
    assert table.users.tolist()[:5] == [7, 6, 5, 4, 3]
    assert table.users.iloc[5:].isna().all()
    assert table.suppressed.tolist() == [False] * 5 + [True] * 2
    html = (out / "report.html").read_text()
    assert "person0" not in html and "suppressed" in html
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["sharing"] == {"min_cell_size": 3, "show_user_ids": False}
    # the kernel got the settings from a first cell the run added, not from the environment
    executed = json.loads((out / "report.ipynb").read_text())
    first = executed["cells"][0]
    assert first["metadata"]["tags"] == ["journeylib-settings"]
    assert "jl.options.min_cell_size = 3\n" in first["source"]
    assert "jl.options.progress = 'off'" in "".join(first["source"])
    html = (out / "report.html").read_text()
    assert "<svg" in html and "Test report" in html
    assert "Result(title" not in html  # no code cells in the report
    assert 'src="http' not in html  # nothing to fetch from the network


def test_a_failing_run_names_the_cell_and_leaves_the_previous_report(tmp_path):
    book = notebook(tmp_path)
    out = run_report(book, {"steps": "2"}, tmp_path / "out")
    before = (out / "tables" / "weekly.csv").read_text()
    with pytest.raises(
        ReportError,
        match=r"report.ipynb: cell 5 \('if fail:'\) failed: ValueError: the data is broken",
    ):
        run_report(book, {"steps": "5", "fail": "true"}, tmp_path / "out")
    assert (out / "tables" / "weekly.csv").read_text() == before
    assert sorted(p.name for p in (tmp_path / ".out.reports").iterdir()) == [
        "lock",
        os.readlink(out).split("/")[1],
    ]  # the failed run's version is gone


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"stpes": "3"}, r"'stpes' for parameter '-p'.*Did you mean 'steps'"),
        ({"steps": "three"}, r"'three' for parameter 'steps'. Expected a value of type int"),
        ({"fail": "maybe"}, r"'maybe' for parameter 'fail'. Expected a value of type bool"),
    ],
)
def test_unknown_or_mistyped_parameters_are_refused_before_running(tmp_path, params, message):
    with pytest.raises(jl.ParameterError, match=message):
        run_report(notebook(tmp_path), params, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_report_command_exit_codes(tmp_path, capsys):
    book = str(notebook(tmp_path))
    out = str(tmp_path / "out")
    assert main(["report", book, "-p", "steps", "2", "--out", out]) == 0
    assert main(["report", book, "-p", "stepz", "2", "--out", out]) == 2
    assert "Did you mean 'steps'" in capsys.readouterr().err
    assert main(["report", book, "-p", "fail", "yes", "--out", out]) == 1
    assert "cell 5 ('if fail:') failed" in capsys.readouterr().err
    assert (Path(out) / "tables" / "weekly.csv").exists()
    assert main(["report", book, "--show-parameters"]) == 0
    assert "steps: int = 3  # how many steps" in capsys.readouterr().out


def test_shared_results_still_draw_their_charts_without_the_suppressed_cells():
    ev = jl.datasets.sample_or("").events()
    steps = jl.next_steps(ev, "view_item", steps=3)
    shared = steps.shared(min_cell_size=5)
    hidden = shared.table[shared.table.suppressed]
    assert len(hidden) > 0 and hidden.users.isna().all()
    assert "<svg" in shared.chart_svg() and "unavailable" not in shared.chart_svg()
    quality = jl.data_quality(jl.datasets.sample_or("")).shared()
    assert "<svg" in quality.chart_svg()  # its chart reads a (shared) extra table


def user_folder(folder: Path) -> dict[str, str]:
    """A folder of the user's own files; returns them to compare after the run."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {"notes.txt": "mine", "data.csv": "a,b\n1,2\n"}
    for name, text in files.items():
        (folder / name).write_text(text)
    return files


def contents(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in folder.iterdir() if p.is_file()}


def test_out_dot_in_a_folder_of_user_files_is_refused_and_nothing_is_touched(
    tmp_path, monkeypatch, capsys
):
    home = tmp_path / "work"
    files = user_folder(home)
    book = notebook(home)
    monkeypatch.chdir(home)
    assert main(["report", str(book), "--out", "."]) == 2
    assert "It is the current folder" in capsys.readouterr().err
    assert contents(home) == {**files, "report.ipynb": book.read_text()}
    assert sorted(p.name for p in home.iterdir()) == ["data.csv", "notes.txt", "report.ipynb"]
    assert [p.name for p in tmp_path.iterdir()] == ["work"]  # no work folder left beside it


@pytest.mark.parametrize("kind", ["folder", "file", "link"])
def test_an_existing_out_that_is_not_a_report_folder_is_refused(tmp_path, capsys, kind):
    book = notebook(tmp_path)
    mine = tmp_path / "mine"
    files = user_folder(mine)
    out = {"folder": mine, "file": mine / "notes.txt", "link": tmp_path / "link"}[kind]
    if kind == "link":
        out.symlink_to(mine)
    assert main(["report", str(book), "--out", str(out)]) == 2
    assert "not a report folder journeylib wrote" in capsys.readouterr().err
    assert contents(mine) == files


@pytest.mark.parametrize("holds", ["home", "notebook", "workspace", "current"])
def test_out_above_the_home_notebook_workspace_or_current_folder_is_refused(
    tmp_path, monkeypatch, capsys, holds
):
    # Each folder carries a journeylib manifest, so only the "holds it" rule can refuse it.
    top = tmp_path / "top"
    inner = top / "inner"
    inner.mkdir(parents=True)
    (top / "manifest.json").write_text('{"generator": "journeylib report"}')
    files = user_folder(inner)
    book = notebook(inner if holds == "notebook" else tmp_path)
    params = ["-p", "title", str(inner / "data.csv")] if holds == "workspace" else []
    if holds == "home":
        monkeypatch.setenv("HOME", str(inner))
    if holds == "current":
        monkeypatch.chdir(inner)
    assert main(["report", str(book), *params, "--out", str(top)]) == 2
    assert "which a report run must not replace" in capsys.readouterr().err
    assert contents(inner) == {
        **files,
        **({"report.ipynb": book.read_text()} if holds == "notebook" else {}),
    }


def test_an_empty_folder_or_an_earlier_report_is_replaced(tmp_path):
    book = notebook(tmp_path)
    (tmp_path / "out").mkdir()
    out = run_report(book, {"steps": "2"}, tmp_path / "out")
    assert json.loads((out / "manifest.json").read_text())["generator"] == "journeylib report"
    out = run_report(book, {"steps": "3"}, tmp_path / "out")
    assert len(pd.read_csv(out / "tables" / "weekly.csv")) == 3


def test_the_demo_refuses_a_folder_of_user_files(tmp_path, capsys):
    files = user_folder(tmp_path / "mine")
    (tmp_path / "mine" / "journeys.duckdb").write_text("not the demo's")
    assert main(["demo", "--out", str(tmp_path / "mine")]) == 2
    assert "holds files an earlier demo did not write" in capsys.readouterr().err
    assert contents(tmp_path / "mine") == {**files, "journeys.duckdb": "not the demo's"}


def versions(out: Path) -> list[str]:
    """What the report's store holds besides its lock."""
    return sorted(
        p.name for p in out.with_name(f".{out.name}.reports").iterdir() if p.name != "lock"
    )


def test_a_report_is_a_link_to_one_complete_version_published_with_the_users_umask(tmp_path):
    book = notebook(tmp_path)
    out = tmp_path / "out"
    previous = os.umask(0o002)
    try:
        run_report(book, {"steps": "2"}, out)
        first = os.readlink(out)
        run_report(book, {"steps": "3"}, out)
    finally:
        os.umask(previous)
    assert out.is_symlink() and os.readlink(out) != first
    assert os.readlink(out) == f".out.reports/{versions(out)[0]}" and len(versions(out)) == 1
    assert len(pd.read_csv(out / "tables" / "weekly.csv")) == 3
    assert (out.resolve().stat().st_mode & 0o777, (out / "tables").stat().st_mode & 0o777) == (
        0o775,
        0o775,
    )
    assert {(p.stat().st_mode & 0o777) for p in out.rglob("*") if p.is_file()} == {0o664}


def test_a_report_folder_from_before_versions_becomes_a_link(tmp_path):
    book = notebook(tmp_path)
    legacy = tmp_path / "out"
    legacy.mkdir()
    (legacy / "manifest.json").write_text('{"versions": {"journeylib": "0.1.0"}}')
    (legacy / "report.html").write_text("old")
    # what killed runs of the two-rename swap left: a report moved aside, a half-run
    manifest = '{"generator": "journeylib report"}'
    for leftover, name, text in [
        (".out.old-1733390000", "manifest.json", manifest),
        (".out.k2j4_9xq", "report.ipynb", "{}"),
    ]:
        (tmp_path / leftover).mkdir()
        (tmp_path / leftover / name).write_text(text)
    user_folder(tmp_path / ".out.mystuff")  # the user's, though named alike
    out = run_report(book, {"steps": "2"}, legacy)
    assert out.is_symlink() and (out / "report.html").read_text() != "old"
    assert len(versions(out)) == 1
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out")) == [
        ".out.mystuff",
        ".out.reports",
    ]


def cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "journeylib.faces.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_a_version_beside(out: Path, known: list[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        store = out.with_name(f".{out.name}.reports")
        if store.exists() and set(versions(out)) - set(known):
            return
        time.sleep(0.1)
    raise AssertionError("the run never started its version")


@pytest.mark.slow
def test_a_killed_run_leaves_the_last_report_and_the_next_run_removes_its_leftovers(tmp_path):
    book = notebook(tmp_path, "import time\ntime.sleep(30)")
    (tmp_path / "quick").mkdir()
    quick = notebook(tmp_path / "quick")
    out = tmp_path / "out"
    run_report(quick, {"steps": "2"}, out)
    published = versions(out)
    run = cli("report", str(book), "-p", "steps", "5", "--out", str(out))
    wait_for_a_version_beside(out, published)
    time.sleep(1)
    run.send_signal(signal.SIGKILL)
    run.wait()
    assert len(pd.read_csv(out / "tables" / "weekly.csv")) == 2  # the last report, complete
    assert len(versions(out)) == 2  # and the killed run's version beside it
    run_report(quick, {"steps": "3"}, out)
    assert len(pd.read_csv(out / "tables" / "weekly.csv")) == 3
    assert len(versions(out)) == 1


@pytest.mark.slow
def test_two_runs_to_one_folder_publish_one_report_and_the_other_is_told(tmp_path):
    book = notebook(tmp_path, "import time\ntime.sleep(3)")
    out = tmp_path / "out"
    first = cli("report", str(book), "-p", "steps", "2", "--out", str(out))
    wait_for_a_version_beside(out, [])
    second = cli("report", str(book), "-p", "steps", "4", "--out", str(out))
    assert second.wait(60) == 2
    assert "Another report run (pid" in second.stderr.read()
    assert first.wait(120) == 0
    assert len(pd.read_csv(out / "tables" / "weekly.csv")) == 2
    assert len(versions(out)) == 1
