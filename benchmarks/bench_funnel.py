"""Funnel benchmark: journeylib's ordered funnel beside ClickHouse windowFunnel (chdb), same file.

Usage: python benchmarks/bench_funnel.py --events 10_000_000 [--repeat 3]

A 4-step ordered funnel with a 7-day window over the synthetic Parquet log of
benchmarks/generate.py. Each measurement is a fresh process (median wall time
of --repeat runs, peak resident memory); the counts of both must be identical.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

from generate import arguments, generate

STEPS = ["view_item", "add_to_cart", "begin_checkout", "purchase"]
WINDOW_SECONDS = 7 * 86_400

CHILD = """
import json, resource, sys, time
kind, path = sys.argv[1:3]
steps = json.loads(sys.argv[3]); window = int(sys.argv[4])
started = time.perf_counter()
if kind == "chdb":
    import chdb
    conditions = ", ".join(f"event_name = '{s}'" for s in steps)
    query = (
        f"select level, count() from (select user_id, windowFunnel({window})(toDateTime(event_time), {conditions}) as level"
        f" from file('{path}', Parquet) where event_name in ({', '.join(repr(s) for s in steps)}) group by user_id)"
        " group by level order by level"
    )
    exact = dict(tuple(map(int, line.split(','))) for line in chdb.query(query, 'CSV').bytes().decode().split())
    counts = [sum(n for level, n in exact.items() if level >= k) for k in range(1, len(steps) + 1)]
else:
    import journeylib as jl
    counts = jl.funnel(jl.read_events(path), steps, within=f"{window}s").table.users.tolist()
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "counts": counts, "peak_bytes": peak}))
"""


def measure(kind: str, path: Path, repeat: int) -> dict[str, object]:
    runs = []
    for _ in range(repeat):
        output = subprocess.run(
            [sys.executable, "-c", CHILD, kind, str(path), json.dumps(STEPS), str(WINDOW_SECONDS)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        runs.append(json.loads(output.strip().splitlines()[-1]))
    return {
        "seconds": statistics.median(r["seconds"] for r in runs),
        "counts": runs[0]["counts"],
        "peak_gib": max(r["peak_bytes"] for r in runs) / 2**30,
    }


def main() -> None:
    parser = arguments(__doc__)
    args = parser.parse_args()
    path = generate(args.events, args.data, ["parquet"])["parquet"]
    chdb = measure("chdb", path, args.repeat)
    ours = measure("journeylib", path, args.repeat)
    ratio = ours["seconds"] / chdb["seconds"]
    for name, figures in (("chdb windowFunnel", chdb), ("journeylib", ours)):
        print(
            f"{name:18} {figures['seconds']:7.2f} s  peak {figures['peak_gib']:.2f} GiB  counts {figures['counts']}"
        )
    print(
        f"ratio journeylib / chdb: {ratio:.2f}  identical counts: {chdb['counts'] == ours['counts']}"
    )
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"funnel_{args.events}.json").write_text(
        json.dumps({"chdb": chdb, "journeylib": ours, "ratio": ratio}, indent=1)
    )


if __name__ == "__main__":
    main()
