"""Paths, transitions and retention over a Parquet log, beside DuckDB's scan floor and chdb's retention.

Usage: python benchmarks/bench_paths.py --events 10_000_000 [--repeat 3]

Over the synthetic Parquet log of benchmarks/generate.py, opened in place
(``jl.read_events``, nothing loaded into a workspace), measures:

- the floor: DuckDB's ``select event_name, count(*) from read_parquet(file) group by 1``;
- ``jl.paths(ev, steps=5)``: the top 5-step paths from each person's first event;
- ``jl.transitions(ev)``: the directly-follows graph (and its node table);
- ``jl.retention(ev, period="week", periods=8)``: first-time weekly cohorts, n_day;
- chdb: the same cohort x week counts with ClickHouse's ``retention(cond1, ...)``
  aggregate over ``file(path, Parquet)``.

Each measurement is a fresh process (median wall time of --repeat runs, from
before the imports to the result in hand; peak resident memory, the largest of
the runs). The counts of chdb and journeylib's retention (cohort size and users
per period, every cohort) must be identical; the script prints whether they are.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from generate import arguments, generate

PERIODS = 8
KINDS = ["floor", "paths", "transitions", "retention", "chdb"]
LABELS = {
    "floor": "DuckDB scan floor (GROUP BY event_name)",
    "paths": "jl.paths(steps=5)",
    "transitions": "jl.transitions",
    "retention": "jl.retention(week, 8, first, n_day)",
    "chdb": "chdb retention(...)",
}

CHILD = """
import json, resource, sys, time
kind, path, periods = sys.argv[1], sys.argv[2], int(sys.argv[3])
started = time.perf_counter()
summary = {}
if kind == "floor":
    import duckdb
    imported = time.perf_counter()
    rows = duckdb.connect().execute(
        "select event_name, count(*) from read_parquet(?) group by 1", [path]
    ).fetchall()
    summary = {"names": len(rows), "events": sum(n for _, n in rows)}
elif kind == "chdb":
    import chdb
    imported = time.perf_counter()
    conditions = ", ".join(
        f"toMonday(assumeNotNull(e.event_time), 'UTC') = addDays(f.cohort, {7 * k})"
        for k in range(periods + 1)
    )
    query = f'''
    with firsts as (
      select assumeNotNull(user_id) as user_id, toMonday(min(assumeNotNull(event_time)), 'UTC') as cohort
      from file('{path}', Parquet) where user_id is not null and event_time is not null group by user_id
    )
    select toString(cohort) as cohort, sumForEach(r) as counts from (
      select f.user_id, any(f.cohort) as cohort, retention({conditions}) as r
      from file('{path}', Parquet) as e inner join firsts as f on assumeNotNull(e.user_id) = f.user_id
      where e.user_id is not null and e.event_time is not null
      group by f.user_id
    ) group by cohort order by cohort
    '''
    data = json.loads(chdb.query(query, "JSONCompact").bytes())["data"]
    # r[1] is the cohort (an event in week 0): cohort_size, and also period 0's users,
    # since with any event returning the first event itself returns in period 0
    summary = {"grid": {cohort: [int(counts[0]), *map(int, counts)] for cohort, counts in data}}
else:
    import journeylib as jl
    ev = jl.read_events(path)
    imported = time.perf_counter()
    if kind == "paths":
        table = jl.paths(ev, steps=5).table
        summary = {"rows": len(table), "units": int(table.users.sum()), "top": table.path.iloc[0]}
    elif kind == "transitions":
        table = jl.transitions(ev).table
        summary = {"edges": len(table), "transitions": int(table["count"].sum())}
    else:
        table = jl.retention(ev, period="week", periods=periods).table
        cells = table[table.cohort != "overall"]
        summary = {
            "grid": {
                str(cohort): [int(rows.cohort_size.iloc[0]), *map(int, rows.sort_values("period").users)]
                for cohort, rows in cells.groupby("cohort", sort=True)
            }
        }
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "setup": imported - started, "peak_bytes": peak, "summary": summary}))
"""


def measure(kind: str, path: Path, repeat: int) -> dict[str, object]:
    """Median wall time, median import/open time and the largest peak RSS of ``repeat`` fresh runs.

    A run that fails (the engine out of memory, say) is reported with its error,
    its time to failure and its peak memory (from ``wait4``), not raised.
    """
    runs = []
    for _ in range(repeat):
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            started = time.perf_counter()
            child = subprocess.Popen(
                [sys.executable, "-c", CHILD, kind, str(path), str(PERIODS)],
                stdout=out,
                stderr=err,
                text=True,
            )
            _, status, usage = os.wait4(child.pid, 0)
            child.returncode = os.waitstatus_to_exitcode(status)
            elapsed = time.perf_counter() - started
            out.seek(0)
            err.seek(0)
            if child.returncode != 0:
                tail = [line for line in err.read().splitlines() if line.strip()][-3:]
                return {
                    "error": " | ".join(tail) or f"exit status {child.returncode}",
                    "seconds_to_failure": elapsed,
                    "peak_gib": usage.ru_maxrss * 1024 / 2**30,
                }
            runs.append(json.loads(out.read().strip().splitlines()[-1]))
    return {
        "seconds": statistics.median(r["seconds"] for r in runs),
        "runs": [round(r["seconds"], 2) for r in runs],
        "setup_seconds": statistics.median(r["setup"] for r in runs),
        "peak_gib": max(r["peak_bytes"] for r in runs) / 2**30,
        "summary": runs[0]["summary"],
    }


def main() -> None:
    parser = arguments(__doc__, events=10_000_000)
    parser.add_argument(
        "--only", default=",".join(KINDS), help="comma-separated subset of " + ",".join(KINDS)
    )
    args = parser.parse_args()
    path = generate(args.events, args.data, ["parquet"])["parquet"]
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    saved = out / f"paths_{args.events}.json"
    results: dict[str, dict[str, object]] = {}
    for kind in args.only.split(","):
        results[kind] = measure(kind, path, args.repeat)
        saved.write_text(json.dumps(results, indent=1))  # a later failure keeps what was measured
        shown = results[kind].get("runs", results[kind].get("error"))
        print(f"measured {kind}: {shown}", file=sys.stderr, flush=True)
    floor = results.get("floor")
    floor_seconds = float(floor["seconds"]) if floor and "seconds" in floor else None
    print(f"{args.events:,} events, {path}, median of {args.repeat}")
    print(f"{'measurement':40} {'wall':>9} {'setup':>7} {'peak':>9} {'/floor':>7}")
    for kind, figures in results.items():
        if "error" in figures:
            print(
                f"{LABELS[kind]:40} failed after {figures['seconds_to_failure']:.1f} s,"
                f" peak {figures['peak_gib']:.2f} GiB: {figures['error']}"
            )
            continue
        ratio = f"{figures['seconds'] / floor_seconds:6.2f}x" if floor_seconds else "      -"
        print(
            f"{LABELS[kind]:40} {figures['seconds']:7.2f} s {figures['setup_seconds']:5.2f} s"
            f" {figures['peak_gib']:5.2f} GiB {ratio}"
        )
    for kind in ("floor", "paths", "transitions"):
        if kind in results and "summary" in results[kind]:
            print(f"{kind}: {results[kind]['summary']}")
    ours, theirs = results.get("retention", {}), results.get("chdb", {})
    if "summary" in ours and "summary" in theirs:
        ratio = ours["seconds"] / theirs["seconds"]
        analysis = (ours["seconds"] - ours["setup_seconds"]) / (
            theirs["seconds"] - theirs["setup_seconds"]
        )
        same = ours["summary"]["grid"] == theirs["summary"]["grid"]
        cohorts = len(ours["summary"]["grid"])
        print(
            f"retention / chdb: {ratio:.2f}x (target <= 1x: {'met' if ratio <= 1 else 'not met'});"
            f" without imports and opening the file: {analysis:.2f}x"
        )
        print(f"identical counts (cohort_size and users per period, {cohorts} cohorts): {same}")
        results["retention_vs_chdb"] = {
            "ratio": ratio,
            "analysis_ratio": analysis,
            "identical": same,
        }
    saved.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
