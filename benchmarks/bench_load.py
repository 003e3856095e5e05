"""Load benchmark: journeylib's loaders beside DuckDB's plain read of the same file.

Usage: python benchmarks/bench_load.py --events 10_000_000 [--repeat 3] [--formats parquet,csv,ga4]

For each format, each measurement runs in a fresh process writing a fresh
database file; the figure is the median wall time over --repeat runs and the
peak resident memory of the process, with the process's CPU time (user +
system), which other work on a shared machine disturbs less than wall time.
The floor is DuckDB's own
``create table t as select * from read_parquet/read_csv/read_json(file)``.
Results are printed and written to benchmarks/results/load_<events>.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from generate import generate

FLOOR = {
    "parquet": "create table t as select * from read_parquet(?)",
    "csv": "create table t as select * from read_csv(?)",
    "ga4": "create table t as select * from read_json(?, format='newline_delimited')",
}
SOURCE = {"parquet": "parquet", "csv": "csv", "ga4": "ga4"}

CHILD = """
import json, resource, sys, time
kind, path, db, sql, source = sys.argv[1:6]
started = time.perf_counter()
if kind == "floor":
    import duckdb
    con = duckdb.connect(db)
    con.execute(sql, [path])
    rows = con.execute("select count(*) from t").fetchall()[0][0]
    con.close()
else:
    import journeylib as jl
    with jl.open(db) as ws:
        rows = ws.load_events(path, source=source).loaded
seconds = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_SELF)
peak = usage.ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime, "rows": rows, "peak_bytes": peak}))
"""


def measure(kind: str, path: Path, fmt: str, repeat: int) -> dict[str, float]:
    """Median seconds and max peak memory of ``repeat`` fresh-process runs."""
    runs = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as folder:
            db = str(Path(folder) / "bench.duckdb")
            output = subprocess.run(
                [sys.executable, "-c", CHILD, kind, str(path), db, FLOOR[fmt], SOURCE[fmt]],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            runs.append(json.loads(output.strip().splitlines()[-1]))
    seconds = statistics.median(r["seconds"] for r in runs)
    return {
        "seconds": seconds,
        "cpu_seconds": statistics.median(r["cpu"] for r in runs),
        "rows": runs[0]["rows"],
        "rows_per_second": runs[0]["rows"] / seconds,
        "peak_gib": max(r["peak_bytes"] for r in runs) / 2**30,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=lambda s: int(s.replace("_", "")), default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--formats", default="parquet,csv,ga4")
    parser.add_argument("--data", type=Path, default=Path(__file__).parent / "data")
    args = parser.parse_args()
    formats = args.formats.split(",")
    files = generate(args.events, args.data, formats)
    results = {}
    print(
        f"{'format':8} {'what':10} {'seconds':>8} {'cpu s':>8} {'rows/s':>12} {'peak GiB':>9} {'ratio':>6}"
    )
    for fmt in formats:
        floor = measure("floor", files[fmt], fmt, args.repeat)
        ours = measure("journeylib", files[fmt], fmt, args.repeat)
        ratio = ours["seconds"] / floor["seconds"]
        results[fmt] = {"floor": floor, "journeylib": ours, "ratio": ratio}
        for what, figures in (("duckdb", floor), ("journeylib", ours)):
            print(
                f"{fmt:8} {what:10} {figures['seconds']:8.2f} {figures['cpu_seconds']:8.2f}"
                f" {figures['rows_per_second']:12,.0f}"
                f" {figures['peak_gib']:9.2f} {ratio if what == 'journeylib' else 1:6.2f}"
            )
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"load_{args.events}.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
