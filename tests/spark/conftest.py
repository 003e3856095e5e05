"""One local Spark session for the whole `spark` group, and events mirrored on both engines."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pandas as pd
import pytest

import journeylib as jl

pyspark = pytest.importorskip(
    "pyspark", reason="install the spark extra: pip install -e '.[spark]'"
)


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("journeylib-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def on_both(spark) -> Callable[[pd.DataFrame], tuple[jl.Events, jl.Events]]:
    """Canonical events from a DataFrame, as (DuckDB handle, Spark handle)."""
    import ibis

    backend = ibis.pyspark.connect(spark)
    counter = iter(range(10_000))

    def mirror(frame: pd.DataFrame) -> tuple[jl.Events, jl.Events]:
        name = f"events_{next(counter)}"
        duck = ibis.duckdb.connect()
        duck.con.register("frame", frame)
        duck.raw_sql(f"create table {name} as select * from frame")
        spark.createDataFrame(
            frame.astype({"event_time": "datetime64[us, UTC]"})
        ).createOrReplaceTempView(name)
        return jl.connect(duck, events=name).events(), jl.connect(backend, events=name).events()

    return mirror
