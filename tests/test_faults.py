"""Fault tests: ``journeylib load`` and ``journeylib report`` killed with SIGKILL at random points.

After each kill the workspace holds each file wholly or not at all, the
ledger agrees with the tables, and ``--out`` holds a complete report, old or
new; the next run leaves nothing behind. Kill points are drawn from a seeded
generator over the measured length of an uninterrupted run, counted from the
moment the command starts, journeylib already imported (so no kill is wasted on start-up).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import journeylib as jl
from journeylib.faces.cli import main
from tests.test_report import notebook

pytestmark = pytest.mark.slow

KILLS = 20

#: A process that imports journeylib once, then runs each CLI command it is
#: sent (one JSON argv per line) in a forked child of its own session, and
#: answers with the child's pid, then its exit code (-9 when killed). Forking
#: spares each run the second and a half of importing journeylib.
SERVER = """
import json, os, sys
import journeylib.faces.cli, journeylib.faces.report
for line in sys.stdin:
    pid = os.fork()
    if pid == 0:
        os.setsid()
        quiet = os.open(os.devnull, os.O_WRONLY)
        os.dup2(quiet, 1)
        os.dup2(quiet, 2)
        os._exit(journeylib.faces.cli.main(json.loads(line)))
    print(pid, flush=True)
    print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), flush=True)
"""


class Runner:
    """Runs CLI commands through :data:`SERVER`, to completion or killed after a delay."""

    def __init__(self) -> None:
        self.server = subprocess.Popen(
            [sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def run(self, *args: str, kill_after: float | None = None) -> int:
        """The command's exit code; with ``kill_after``, SIGKILL it (and its session) then."""
        assert self.server.stdin is not None and self.server.stdout is not None
        self.server.stdin.write(json.dumps(list(args)) + "\n")
        self.server.stdin.flush()
        pid = int(self.server.stdout.readline())
        ended, _, _ = select.select([self.server.stdout], [], [], kill_after)
        if kill_after is not None and not ended:  # still running: kill it, and what it started
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        return int(self.server.stdout.readline())

    def timed(self, *args: str) -> float:
        started = time.monotonic()
        assert self.run(*args) == 0
        return time.monotonic() - started

    def close(self) -> None:
        self.server.communicate("", timeout=60)


@pytest.fixture
def runner():
    served = Runner()
    yield served
    served.close()


def exports(folder: Path, files: int = 3, people: int = 2000) -> list[Path]:
    """CSV exports of distinct events, with a few rows that will be rejected."""
    folder.mkdir()
    paths = []
    for f in range(files):
        lines = ["user_id,event_name,event_time,revenue"]
        for p in range(people):
            for step, name in enumerate(["view", "cart", "buy"]):
                bad = p % 97 == 0 and name == "view"
                revenue = "9.5" if name == "buy" else ("oops" if bad else "")
                lines.append(
                    f"f{f}u{p},{name},2024-01-{1 + f:02d}T10:{step:02d}:{p % 60:02d}Z,{revenue}"
                )
        path = folder / f"export_{f}.csv"
        path.write_text("\n".join(lines) + "\n")
        paths.append(path)
    return paths


def ledger_problems(db: Path, files: list[Path]) -> list[str]:
    """What disagrees between the ledger and the tables, and files loaded out of order."""
    with jl.open(db, read_only=True) as ws:
        ledger = ws.sql(
            "select origin, loaded, rejected,"
            " (select count(*) from events e where e.origin = l.origin) as events,"
            " (select count(*) from rejected r where r.origin = l.origin) as rejects"
            " from loads l"
        )
        strays = ws.sql(
            "select (select count(*) from events where origin not in (select origin from loads))"
            " + (select count(*) from rejected where origin not in (select origin from loads)) as n"
        ).n.item()
    problems = [
        f"{row.origin}: ledger says {row.loaded} loaded and {row.rejected} rejected,"
        f" tables hold {row.events} and {row.rejects}"
        for row in ledger.itertuples()
        if (row.loaded, row.rejected) != (row.events, row.rejects)
    ]
    if strays:
        problems.append(f"{strays} rows from files not in the ledger")
    loaded = set(ledger.origin)
    expected = [str(f) for f in files[: len(loaded)]]  # files load in order, each wholly
    if sorted(loaded) != sorted(expected):
        problems.append(f"loaded {sorted(loaded)}, expected a prefix of the list")
    return problems


def in_two_lanes(lane: Callable[[Runner, random.Random, list[int]], list[object]]) -> list[object]:
    """Run ``lane`` twice at once (one per core), each with its own server, seed and half
    of the :data:`KILLS` kill numbers; return what both found."""
    halves = [list(range(0, KILLS, 2)), list(range(1, KILLS, 2))]
    runners = [Runner(), Runner()]
    try:
        with ThreadPoolExecutor(2) as pool:
            found = pool.map(lane, runners, [random.Random(25), random.Random(26)], halves)
            return [item for items in found for item in items]
    finally:
        for served in runners:
            served.close()


def test_a_load_killed_anywhere_leaves_each_file_wholly_in_or_out(tmp_path, runner):
    files = exports(tmp_path / "exports")
    empty = tmp_path / "empty.duckdb"
    jl.open(empty).close()
    args = ["--source", "csv", *map(str, files)]
    trial = tmp_path / "trial.duckdb"
    shutil.copy(empty, trial)
    length = runner.timed("load", "--db", str(trial), *args)

    def lane(served: Runner, rng: random.Random, kills: list[int]) -> list[object]:
        outcomes: list[object] = []
        for kill in kills:
            db = tmp_path / f"killed{kill}.duckdb"
            shutil.copy(empty, db)
            served.run("load", "--db", str(db), *args, kill_after=rng.uniform(0, length))
            assert ledger_problems(db, files) == [], f"kill {kill}"
            with jl.open(db, read_only=True) as ws:
                outcomes.append(int(ws.sql("select count(*) as n from loads").n.item()))
            assert served.run("load", "--db", str(db), *args) == 0  # the next run does the rest
            assert ledger_problems(db, files) == []
            with jl.open(db, read_only=True) as ws:
                assert ws.info()["events"] == 3 * 2000 * 3 - 3 * 21  # 21 rejected per file
            assert sorted(p.name for p in tmp_path.glob(f"killed{kill}.duckdb*")) == [db.name]
        return outcomes

    outcomes = in_two_lanes(lane)
    assert len(outcomes) == KILLS
    assert len(set(outcomes)) > 1, f"every kill landed at the same point: {outcomes}"


def complete(out: Path) -> int:
    """The rows of the report at ``out``, checked to be whole: manifest, page and every table."""
    manifest = json.loads((out / "manifest.json").read_text())
    assert (out / "report.html").stat().st_size > 0
    (table,) = manifest["tables"]
    lines = (out / table["file"]).read_text().splitlines()
    assert len(lines) == table["rows"] + 1
    return int(table["rows"])


def test_a_report_killed_anywhere_leaves_a_complete_report_and_the_next_run_no_leftovers(
    tmp_path, runner
):
    book = notebook(tmp_path)
    length = runner.timed("report", str(book), "--out", str(tmp_path / "trial"))

    def lane(served: Runner, rng: random.Random, kills: list[int]) -> list[object]:
        out = tmp_path / f"out{kills[0]}"
        assert served.run("report", str(book), "-p", "steps", "1", "--out", str(out)) == 0
        published: list[object] = []
        for kill in kills:
            rows = 2 + kill
            # two lanes share the machine: a run takes longer than the trial, so the
            # kill points span half as much again
            when = rng.uniform(0, 1.5 * length)
            served.run(
                "report", str(book), "-p", "steps", str(rows), "--out", str(out), kill_after=when
            )
            published.append(complete(out) == rows)  # the new report or the old, whole
        return published

    published = in_two_lanes(lane)
    assert set(published) == {True, False}, "kills came only before, or only after, publishing"
    for out in (tmp_path / "out0", tmp_path / "out1"):
        assert main(["report", str(book), "-p", "steps", "99", "--out", str(out)]) == 0
        assert complete(out) == 99
        store = tmp_path / f".{out.name}.reports"
        assert sorted(p.name for p in store.iterdir()) == ["lock", os.readlink(out).split("/")[1]]
    names = sorted(p.name for p in tmp_path.iterdir() if "out" in p.name)
    assert names == [".out0.reports", ".out1.reports", "out0", "out1"]  # nothing else left
