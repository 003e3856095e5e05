"""The same attribution on local Apache Spark as on DuckDB (ADR 0003, 0008)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import journeylib as jl
from journeylib.analyses.attribution import attribution

pytestmark = pytest.mark.spark

GOLDEN = Path(__file__).parents[1] / "golden" / "attribution"
MODELS = ["w_shaped", "time_decay", "linear", "position_based", "markov", "shapley"]


@pytest.fixture(scope="module")
def spark_events(spark) -> jl.Events:
    import ibis

    frame = pd.read_csv(GOLDEN / "crm_events.csv", dtype=str)
    frame = frame.astype(object).where(frame.notna(), None)
    frame["event_time"] = pd.to_datetime(frame.event_time, utc=True).astype("datetime64[us, UTC]")
    frame["revenue"] = pd.to_numeric(frame.revenue)
    spark.createDataFrame(frame).createOrReplaceTempView("attribution_events")
    return jl.connect(ibis.pyspark.connect(spark), events="attribution_events").events()


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"transform": "frequency", "drop_direct": True, "lookback_steps": 3},
        {"transform": "exposure", "touchpoint": "event", "max_steps": 2, "lookback": "5d"},
    ],
)
def test_spark_equals_duckdb(spark_events: jl.Events, options: dict) -> None:
    duck = jl.read_events(GOLDEN / "crm_events.csv")
    ours = attribution(duck, models=MODELS, **options).table
    theirs = attribution(spark_events, models=MODELS, **options).table
    order = ["model", "channel"]
    pd.testing.assert_frame_equal(
        theirs.sort_values(order, ignore_index=True),
        ours.sort_values(order, ignore_index=True),
        check_exact=False,
        rtol=1e-12,
    )
