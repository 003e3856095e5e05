"""Report and widget budgets: explore redraws, the demo report, and the report on a 10M-event workspace.

Usage: python benchmarks/bench_report.py [--events 10_000_000] [--skip-large]

1. On the bundled sample: the time from a control change in each ``*_widget``
   to the redrawn result (median of 3 changes; budget: under 1 s);
2. ``journeylib demo``: sample exports -> workspace -> the full journey report
   (budget: under 60 s);
3. the journey report on a workspace loaded from the synthetic Parquet log of
   ``generate.py`` (budget: under 3 minutes at 10M events).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from generate import generate

import journeylib as jl
from journeylib.faces import widgets
from journeylib.faces.report import run_report

ROOT = Path(__file__).resolve().parents[1]
CHANGES = {
    "funnel_widget": ("within", ["1d", "14d", "7d"]),
    "paths_widget": ("steps", [2, 4, 3]),
    "attribution_widget": ("lookback", ["7d", "14d", "30d"]),
    "retention_widget": ("period", ["day", "month", "week"]),
    "journey_map_widget": ("stages", ["hourglass", "aida", "five_stage"]),
}


def redraws() -> dict[str, float]:
    ev = jl.datasets.sample_or("").events()
    seconds = {}
    for name, (control, values) in CHANGES.items():
        panel = getattr(widgets, name)(ev)
        runs = []
        for value in values:
            started = time.perf_counter()
            panel.controls[control].value = value  # the panel re-runs and redraws on change
            runs.append(time.perf_counter() - started)
        seconds[name] = statistics.median(runs)
    return seconds


def demo(folder: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "journeylib.faces.cli", "demo", "--out", str(folder)],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def large_report(events: int, folder: Path) -> tuple[float, float]:
    parquet = generate(events, Path(__file__).parent / "data", ["parquet"])["parquet"]
    db = folder / "large.duckdb"
    started = time.perf_counter()
    with jl.open(db) as ws:
        ws.load_events(parquet, source="parquet")
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    run_report(ROOT / "notebooks" / "journey_report.ipynb", {"db": str(db)}, folder / "report")
    return loaded, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=lambda s: int(s.replace("_", "")), default=10_000_000)
    parser.add_argument("--skip-large", action="store_true")
    args = parser.parse_args()
    for name, seconds in redraws().items():
        print(f"redraw {name:22} {seconds:6.2f} s (budget 1 s)")
    with tempfile.TemporaryDirectory() as tmp:
        print(f"demo report            {demo(Path(tmp) / 'demo'):6.1f} s (budget 60 s)")
        if not args.skip_large:
            loaded, report = large_report(args.events, Path(tmp))
            print(f"load {args.events:,} events   {loaded:6.1f} s")
            print(f"report on {args.events:,}     {report:6.1f} s (budget 180 s)")


if __name__ == "__main__":
    main()
