"""Load benchmark: journeylib's loaders beside DuckDB's plain read of the same file.

Usage: python benchmarks/bench_load.py --events 10_000_000 [--repeat 3] [--formats parquet,csv,ga4]

For each format, each measurement runs in a fresh process writing a fresh
database file; the figure is the median wall time over --repeat runs and the
peak resident memory of the process, with the process's CPU time (user +
system), which other work on a shared machine disturbs less than wall time.
The floor is DuckDB's own
``create table t as select * from read_parquet/read_csv/read_json(file)``.
For GA4 NDJSON a third measurement, the bound, does less than any loader
must do to fill ``events`` as ADR 0001 defines it (``properties`` as JSON
text, ``event_id`` a hash over the row when the export has none): read each
line, hash it, pull out the canonical fields and store the line as the
properties text, with no flattened parameters, checks, dedupe, channels or
identities. It is also run over the ``properties`` texts journeylib stores
for the same events, one per line (``stored``): the cost of hashing and
storing that text when building it is free. Those texts are made afresh by
every run, so a loader change is measured against its own output.
Results are printed and written to benchmarks/results/load_<events>.json.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from generate import arguments, generate

from journeylib.loading.sources.common import json_lines

FLOOR = {
    "parquet": "create table t as select * from read_parquet(?)",
    "csv": "create table t as select * from read_csv(?)",
    "ga4": "create table t as select * from read_json(?, format='newline_delimited')",
}
SOURCE = {"parquet": "parquet", "csv": "csv", "ga4": "ga4"}
#: the lines of a JSON-lines file, its path bound as the one parameter
_LINES = json_lines(Path("file"))[0]
#: the least work of a GA4 load into the canonical model (see the module docstring)
_GA4_FIELDS = ", ".join(
    f"'$.{path}'"
    for path in (
        "event_timestamp",
        "event_name",
        "user_id",
        "user_pseudo_id",
        "collected_traffic_source.manual_source",
        "collected_traffic_source.manual_medium",
        "collected_traffic_source.manual_campaign_name",
        "ecommerce.purchase_revenue",
    )
)
BOUND = {
    "ga4": "create table t as select md5(_raw) as event_id, f[1] as event_time, f[2] as event_name,"
    " coalesce(f[3], f[4]) as user_id, f[4] as anonymous_id, f[5] as source, f[6] as medium,"
    " f[7] as campaign, f[8] as revenue, _raw as properties"
    f" from (select _raw, json_extract_string(_raw, [{_GA4_FIELDS}]) as f from ({_LINES}))"
}

CHILD = """
import json, resource, sys, time
kind, path, db, sql, source = sys.argv[1:6]
started = time.perf_counter()
if kind in ("floor", "bound"):
    import duckdb
    con = duckdb.connect(db)
    if kind == "bound":  # the cheapest write: storage order is free
        con.execute("SET preserve_insertion_order = false")
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
    sql = BOUND[fmt] if kind == "bound" else FLOOR[fmt]
    runs = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as folder:
            db = str(Path(folder) / "bench.duckdb")
            output = subprocess.run(
                [sys.executable, "-c", CHILD, kind, str(path), db, sql, SOURCE[fmt]],
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


STORED = """
import sys, tempfile, duckdb, journeylib as jl
from pathlib import Path
path, out = sys.argv[1:3]
with tempfile.TemporaryDirectory() as folder:
    db = Path(folder) / "w.duckdb"
    with jl.open(db) as ws:
        ws.load_events(path, source="ga4")
    con = duckdb.connect(str(db), read_only=True)
    rows = con.sql("select to_json(properties)::varchar as line from events")
    rows.write_csv(out, header=False, quotechar="", sep="\\x1e")
"""


def stored_properties(path: Path) -> Path:
    """The ``properties`` texts of a GA4 file loaded by journeylib, one per line.

    Made again on every call (they follow the loader's code, not just the
    file), in a child process so that its memory does not count in the
    peaks measured after it.
    """
    out = path.with_suffix(".properties.txt")
    subprocess.run([sys.executable, "-c", STORED, str(path), str(out)], check=True)
    return out


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--formats", default="parquet,csv,ga4")
    args = parser.parse_args()
    formats = args.formats.split(",")
    files = generate(args.events, args.data, formats)
    results = {}
    print(
        f"{'format':8} {'what':10} {'seconds':>8} {'cpu s':>8} {'rows/s':>12} {'peak GiB':>9} {'ratio':>6}"
    )
    for fmt in formats:
        runs = {"floor": ("floor", files[fmt]), "journeylib": ("journeylib", files[fmt])}
        if fmt in BOUND:
            runs["bound"] = ("bound", files[fmt])
            runs["stored"] = ("bound", stored_properties(files[fmt]))
        figures = {
            name: measure(kind, path, fmt, args.repeat) for name, (kind, path) in runs.items()
        }
        floor = figures["floor"]["seconds"]
        results[fmt] = {**figures, "ratio": figures["journeylib"]["seconds"] / floor}
        for name, run in figures.items():
            print(
                f"{fmt:8} {name:10} {run['seconds']:8.2f} {run['cpu_seconds']:8.2f}"
                f" {run['rows_per_second']:12,.0f}"
                f" {run['peak_gib']:9.2f} {run['seconds'] / floor:6.2f}"
            )
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"load_{args.events}.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
