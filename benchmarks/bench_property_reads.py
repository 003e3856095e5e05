"""Property reads through journeylib on a loaded GA4 workspace, and the load that made it.

Usage: python benchmarks/bench_property_reads.py --events 2_000_000 [--repeat 3]

Loads a GA4 NDJSON export of ``--events`` rows into a fresh workspace file
(one fresh process: seconds and peak), then times, each in a fresh process,
alternating, medians of ``--repeat``, the reads an analyst repeats on every
widget change: the property keys offered for a breakdown, a funnel broken
down by a nested key (``device.category``), and a count filtered on a
flattened parameter (``page_location``). Run it with ``PYTHONPATH`` set to
another checkout to measure that journeylib on the same file (ADR 0037
compares JSON text with a VARIANT this way). Results are printed and written
to benchmarks/results/property_reads_<events>.json.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from fresh import REPORT, Run, median_seconds, run
from generate import arguments, generate

LOAD = (
    """
import json, resource, sys, time
import journeylib as jl
path, db = sys.argv[1:3]
started = time.perf_counter()
with jl.open(db) as ws:
    answer = ws.load_events(path, source="ga4").loaded
"""
    + REPORT
)

#: the reads timed, each a Python expression over ``ev`` (the workspace's events)
READS = {
    "property keys": "ev.property_keys()",
    "funnel by device.category": (
        "jl.funnel(ev, ['session_start', 'view_item', 'purchase'],"
        " by='device.category').table.users.sum()"
    ),
    "filter on page_location": (
        "ev.where(ev.prop('page_location') == 'https://shop.example/p/7').count()"
    ),
}

READ = (
    """
import json, resource, sys, time
import journeylib as jl
db, expression = sys.argv[1:3]
ws = jl.open(db, read_only=True)
ev = ws.events()
started = time.perf_counter()
answer = eval(expression)
"""
    + REPORT
)


def main() -> None:
    parser = arguments(__doc__)
    args = parser.parse_args()
    source = generate(args.events, args.data, ["ga4"])["ga4"]
    results: dict[str, object] = {"events": args.events}
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "w.duckdb"
        load = run(LOAD, source, db)
        results["load"] = load
        print(f"load: {load['seconds']:.2f} s, peak {load['peak'] / 2**30:.2f} GiB")
        runs: dict[str, list[Run]] = {name: [] for name in READS}
        for _ in range(args.repeat):
            for name, expression in READS.items():
                runs[name].append(run(READ, db, expression))
    for name, measured in runs.items():
        seconds = median_seconds(measured)
        answers = {r["answer"] for r in measured}
        results[name] = {"seconds": seconds, "answer": sorted(answers)}
        print(f"{name}: {seconds:.3f} s, answer {', '.join(sorted(answers))}")
    out = Path(__file__).parent / "results" / f"property_reads_{args.events}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
