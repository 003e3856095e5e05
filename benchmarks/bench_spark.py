"""The same funnel and attribution on Spark local mode and on DuckDB, side by side.

Usage: python benchmarks/bench_spark.py --events 10_000_000

Both engines read the synthetic Parquet log of ``generate.py`` in place (the
channel is the medium, named as in bench_attribution.py) and run the same
journeylib calls; the tables must be equal. Spark runs ``local[2]`` with 4 GiB
of driver memory; its session start-up is reported apart from the analyses.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path

import ibis
import pandas as pd
from bench_attribution import CHANNELS
from bench_funnel import STEPS
from generate import generate

import journeylib as jl

ANALYSES: dict[str, Callable[[jl.Events], jl.Result]] = {
    "funnel (4 steps, 7 days)": lambda ev: jl.funnel(ev, STEPS, within="7d"),
    "attribution (last touch, linear, markov)": lambda ev: jl.attribution(
        ev, models=["last_touch", "linear", "markov"]
    ),
}


def with_channel(backend: ibis.BaseBackend, table: ibis.Table) -> jl.Events:
    channel = table.medium.cases(*CHANNELS.items(), else_=None)
    return jl.connect(backend, events=table.mutate(channel=channel)).events()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=lambda s: int(s.replace("_", "")), default=1_000_000)
    args = parser.parse_args()
    path = generate(args.events, Path(__file__).parent / "data", ["parquet"])["parquet"]

    duck = ibis.duckdb.connect()
    duck.raw_sql("SET TimeZone = 'UTC'")
    duck_events = with_channel(duck, duck.read_parquet(str(path)))

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    started = time.perf_counter()
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "4g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    session.read.parquet(str(path)).createOrReplaceTempView("bench_events")
    spark = ibis.pyspark.connect(session)
    spark_events = with_channel(spark, spark.table("bench_events"))
    print(f"Spark session start and file registration: {time.perf_counter() - started:.1f} s")

    for name, analysis in ANALYSES.items():
        timings = {}
        tables = {}
        for engine, events in (("duckdb", duck_events), ("spark", spark_events)):
            started = time.perf_counter()
            tables[engine] = analysis(events).table
            timings[engine] = time.perf_counter() - started
        keys = [c for c in ("step_index", "model", "channel") if c in tables["duckdb"].columns]
        ours, theirs = (t.sort_values(keys, ignore_index=True) for t in tables.values())
        pd.testing.assert_frame_equal(ours, theirs, check_dtype=False, rtol=1e-9)
        print(
            f"{name:42} DuckDB {timings['duckdb']:7.1f} s   Spark local[2] {timings['spark']:7.1f} s"
            f"   ratio {timings['spark'] / timings['duckdb']:5.1f}x   tables equal"
        )
    session.stop()


if __name__ == "__main__":
    main()
