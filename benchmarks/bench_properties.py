"""How to store ``properties`` (issue #29 step 4, ADR 0037): build, hash, store and read.

Usage: python benchmarks/bench_properties.py --events 2_000_000 [--repeat 3]

From the lines of a GA4-shaped NDJSON export (``generate.py``), already read
into a table so that reading text is not measured, each layout builds what a
load stores for every row: the content id (an MD5 over the canonical form of
the properties, ADR 0035) and the properties themselves. Then three reads an
analysis makes run on what it stored: a breakdown by a nested key
(``device.category``), a filter on a flattened event parameter
(``page_location``), and the list of top-level keys with their counts
(``Events.property_keys``). Each measurement is a fresh process; medians of
``--repeat`` runs, alternating layouts; file size after a checkpoint.

Layouts:
- ``json``: today. The row with its parameters flattened, as JSON text, stored
  as ``JSON``; the id hashes its canonical form, made for the hash alone.
- ``json_canonical``: the same text, but the canonical form itself is what is
  stored, so the hash and the store share one conversion.
- ``variant``: the object stored as DuckDB's ``VARIANT``; the id hashes its
  JSON text, which is canonical already (keys sorted).
- ``map``: a ``MAP(VARCHAR, JSON)`` of the top-level keys.
- ``typed``: typed columns for the fields every GA4 row has (a STRUCT from the
  parse) and a sorted ``MAP(VARCHAR, VARCHAR)`` of the event parameters.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import fresh
from generate import arguments, generate

from journeylib.loading.ingest import canonical_text
from journeylib.loading.layout import as_variant
from journeylib.loading.sources.common import json_lines
from journeylib.loading.sources.ga4 import _flatten

LAYOUTS = ("json", "json_canonical", "variant", "map", "typed")
READS = ("nested_key", "param_filter", "key_list")

_FIXED = (
    '{"event_date":"VARCHAR","event_timestamp":"VARCHAR","event_name":"VARCHAR",'
    '"user_id":"VARCHAR","user_pseudo_id":"VARCHAR","platform":"VARCHAR","stream_id":"VARCHAR",'
    '"device":{"category":"VARCHAR","operating_system":"VARCHAR"},"geo":{"country":"VARCHAR"},'
    '"collected_traffic_source":{"manual_source":"VARCHAR","manual_medium":"VARCHAR",'
    '"manual_campaign_name":"VARCHAR","gclid":"VARCHAR"},'
    '"ecommerce":{"purchase_revenue":"DOUBLE","transaction_id":"VARCHAR"},'
    '"event_params":[{"key":"VARCHAR","value":{"string_value":"VARCHAR","int_value":"VARCHAR",'
    '"float_value":"DOUBLE","double_value":"DOUBLE"}}],'
    '"user_properties":[{"key":"VARCHAR","value":{"string_value":"VARCHAR","int_value":"VARCHAR",'
    '"float_value":"DOUBLE","double_value":"DOUBLE"}}]}'
)
#: the row as one JSON object, parameters flattened: what a GA4 load keeps today
_TEXT = (
    """json_merge_patch(_raw, '{"event_params":null,"user_properties":' ||"""
    f" {_flatten('g.user_properties')} || '}}', {_flatten('g.event_params')})"
)


def build_sql(layout: str) -> str:
    """SELECT of (event_id, properties) from ``lines`` (``_raw``) for one layout."""
    parsed = f"select _raw, from_json(_raw, '{_FIXED}') as g from lines"
    if layout == "json":
        return (
            f"select md5({canonical_text(as_variant('p'))}) as event_id, p::JSON as properties"
            f" from (select {_TEXT} as p from ({parsed}))"
        )
    if layout == "json_canonical":
        return (
            "select md5(c) as event_id, c::JSON as properties"
            f" from (select {canonical_text(as_variant(_TEXT))} as c from ({parsed}))"
        )
    if layout == "variant":
        # parsed once, for the id and the stored column, as a load does (ADR 0037)
        return (
            f"select md5({canonical_text('v')}) as event_id, v as properties"
            f" from (select {as_variant(_TEXT)} as v from ({parsed}))"
        )
    if layout == "map":
        return (
            f"select md5({canonical_text(as_variant('p'))}) as event_id,"
            """ json_transform(p, '"MAP(VARCHAR, JSON)"') as properties"""
            f" from (select {_TEXT} as p from ({parsed}))"
        )
    params = (
        "map_from_entries(list_sort(list_transform(g.event_params, lambda p: (p.key,"
        " coalesce(p.value.string_value, p.value.int_value, cast(p.value.double_value as varchar),"
        " cast(p.value.float_value as varchar))))))"
    )
    fixed = ", ".join(
        f"'{f}': g.{f}"
        for f in (
            "event_date",
            "platform",
            "stream_id",
            "device",
            "geo",
            "ecommerce",
            "collected_traffic_source",
        )
    )
    return (
        "select md5(cast(to_json(s) as varchar) || cast(to_json(params) as varchar)) as event_id,"
        " s as properties, params"
        f" from (select {{{fixed}}} as s, {params} as params from ({parsed}))"
    )


def read_sql(layout: str, read: str) -> str:
    """One analysis read over the stored table ``t``."""
    nested = {
        "json": "properties->>'$.device.category'",
        "variant": "variant_extract(variant_extract(properties, 'device'), 'category')::varchar",
        "map": "properties['device']->>'$.category'",
        "typed": "properties.device.category",
    }
    param = {
        "json": "properties->>'$.page_location'",
        "variant": "variant_extract(properties, 'page_location')::varchar",
        "map": "properties['page_location']->>'$'",
        "typed": "params['page_location']",
    }
    keys = {
        "json": "unnest(json_keys(properties))",
        "variant": "unnest(json_keys(properties::JSON))",
        "map": "unnest(map_keys(properties))",
        "typed": "unnest(list_concat(json_keys(to_json(properties)), map_keys(params)))",
    }
    kind = "json" if layout == "json_canonical" else layout
    if read == "nested_key":
        return f"select {nested[kind]} as k, count(*) from t group by k order by k"
    if read == "param_filter":
        return f"select count(*) from t where {param[kind]} like '%/p/1%'"
    return f"select k, count(*) as n from (select {keys[kind]} as k from t) group by k order by n desc, k"


#: build one layout's table from the lines into a fresh file; the answer is its size
BUILD = (
    """
import duckdb, json, os, resource, sys, time
lines, target, sql = sys.argv[1:4]
if os.path.exists(target):
    os.remove(target)
con = duckdb.connect(target)
con.execute("set enable_progress_bar = false")
con.execute(f"attach '{lines}' as src (read_only)")
con.execute("create view lines as select * from src.lines")
started = time.perf_counter()
con.execute(f"create table t as {sql}")
con.execute("checkpoint")
answer = os.path.getsize(target)
"""
    + fresh.REPORT
)


def stage_lines(ndjson: Path, folder: Path) -> Path:
    """The export's lines in a table, read once (in a child: see bench_layout.py on peaks)."""
    target = folder / f"lines_{ndjson.stem}.duckdb"
    if not target.exists():
        sql, params = json_lines(ndjson)
        script = (
            "import duckdb, sys; con = duckdb.connect(sys.argv[1]);"
            " con.execute(f'create table lines as select _raw from ({sys.argv[2]})', [sys.argv[3]])"
        )
        subprocess.run([sys.executable, "-c", script, str(target), sql, str(params[0])], check=True)
    return target


def main() -> None:
    parser = arguments(__doc__, events=2_000_000)
    parser.add_argument("--layouts", default=",".join(LAYOUTS))
    args = parser.parse_args()
    ndjson = generate(args.events, args.data, ["ga4"])["ga4"]
    lines = stage_lines(ndjson, args.data)
    layouts = args.layouts.split(",")
    stored = {layout: args.data / f"properties_{layout}_{args.events}.duckdb" for layout in layouts}
    results: dict[str, dict[str, object]] = {layout: {} for layout in layouts}
    builds: dict[str, list[fresh.Run]] = {layout: [] for layout in layouts}
    for _ in range(args.repeat):
        for layout in layouts:
            builds[layout].append(fresh.run(BUILD, lines, stored[layout], build_sql(layout)))
    for layout in layouts:
        results[layout]["build"] = fresh.median_seconds(builds[layout])
        results[layout]["build_peak_gib"] = fresh.peak_gib(builds[layout])
        results[layout]["size_mib"] = int(builds[layout][0]["answer"]) / 2**20
    for read in READS:
        runs: dict[str, list[fresh.Run]] = {layout: [] for layout in layouts}
        for _ in range(args.repeat):
            for layout in layouts:
                runs[layout].append(fresh.query(stored[layout], read_sql(layout, read)))
        for layout in layouts:
            results[layout][read] = fresh.median_seconds(runs[layout])
            results[layout][f"{read}_answer"] = runs[layout][0]["answer"]
    header = f"{'layout':15} {'build s':>8} {'peak GiB':>8} {'MiB':>6} " + " ".join(
        f"{r:>13}" for r in READS
    )
    print(header)
    for layout in layouts:
        figures = results[layout]
        print(
            f"{layout:15} {figures['build']:8.2f} {figures['build_peak_gib']:8.2f}"
            f" {figures['size_mib']:6.0f} " + " ".join(f"{float(figures[r]):13.2f}" for r in READS)  # type: ignore[arg-type]
        )
    same = {
        read: len(
            {str(results[layout][f"{read}_answer"]) for layout in layouts if layout != "typed"}
        )
        == 1
        for read in READS
    }
    print("same answers (all but typed, whose key list differs in shape):", same)
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"properties_{args.events}.json").write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
