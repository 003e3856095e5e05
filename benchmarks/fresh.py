"""Measurements in a fresh process: a child script's wall time, answer and peak memory.

Each child prints one JSON line (seconds, answer, peak bytes); the parent reads
the last line of its output. A fresh process per measurement keeps caches and
peaks apart (Linux keeps a process's peak memory across exec, so the parent
must not do heavy work itself before it starts children).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TypedDict, cast

#: the tail every child script ends with: ``started`` and ``answer`` set by the script
REPORT = """
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "answer": repr(answer), "peak": peak}))
"""

#: one query over a DuckDB file opened read-only
QUERY = (
    """
import duckdb, json, resource, sys, time
path, query = sys.argv[1:3]
con = duckdb.connect(path, read_only=True)
con.execute("set enable_progress_bar = false")
started = time.perf_counter()
answer = con.execute(query).fetchall()
"""
    + REPORT
)


class Run(TypedDict):
    """What one child printed: its wall seconds, its answer's repr and its peak bytes."""

    seconds: float
    answer: str
    peak: int


def run(script: str, *args: object) -> Run:
    """Run ``script`` (Python source ending with :data:`REPORT`) with ``args``; its figures."""
    done = subprocess.run(
        [sys.executable, "-c", script, *map(str, args)], check=True, capture_output=True, text=True
    )
    return cast(Run, json.loads(done.stdout.strip().splitlines()[-1]))


def query(path: Path, sql: str) -> Run:
    """The figures of one query over the DuckDB file ``path``, in a fresh process."""
    return run(QUERY, path, sql)


def median_seconds(runs: Iterable[Run]) -> float:
    """The median wall time of ``runs``."""
    return statistics.median(r["seconds"] for r in runs)


def peak_gib(runs: Iterable[Run]) -> float:
    """The highest peak memory of ``runs``, in GiB."""
    return max(r["peak"] for r in runs) / 2**30
