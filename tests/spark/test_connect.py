"""The same handle operations give the same answers on local Spark and DuckDB."""

from __future__ import annotations

import pandas as pd
import pytest

pytestmark = pytest.mark.spark

FRAME = pd.DataFrame(
    {
        "event_id": ["e1", "e2", "e3", "e4"],
        "user_id": ["u1", "u1", "u2", "o'brien"],
        "event_time": pd.to_datetime(
            ["2024-01-01T10:00Z", "2024-01-02T10:00Z", "2024-01-03T10:00Z", "2024-02-01T00:00Z"]
        ),
        "event_name": ["view", "buy", "view", "view"],
        "channel": ["Email", None, "Direct", "Email"],
    }
)


def test_counts_filters_and_ranges_agree(on_both):
    duck, spark = on_both(FRAME)
    for ev in (duck, spark):
        assert ev.count() == 4
        assert ev.where(event_name="view").count() == 3
        assert ev.where(channel="Email").between("2024-01-01", "2024-02-01").count() == 1
        assert ev.where(user_id="o'brien").count() == 1


JOURNEYS = pd.DataFrame(
    {
        "event_id": [f"e{i}" for i in range(9)],
        "user_id": ["a", "a", "a", "b", "b", "c", "c", "c", "d"],
        "event_time": pd.to_datetime(
            [
                "2024-01-01T10:00Z",
                "2024-01-01T10:05Z",
                "2024-01-02T09:00Z",
                "2024-01-01T10:00Z",
                "2024-01-09T10:00Z",
                "2024-01-03T10:00Z",
                "2024-01-03T10:00Z",
                "2024-01-03T12:00Z",
                "2024-01-04T10:00Z",
            ]
        ),
        "event_name": ["view", "cart", "buy", "view", "cart", "cart", "view", "buy", "view"],
        "channel": [
            "Email",
            "Email",
            "Direct",
            "Direct",
            "Direct",
            "Email",
            "Email",
            "Email",
            "Direct",
        ],
    }
)


@pytest.mark.parametrize(
    ("mode", "window_from", "options"),
    [
        ("ordered", "entry", {}),
        ("strict", "entry", {}),
        ("strict_increase", "entry", {}),
        ("unordered", "entry", {}),
        ("ordered", "previous_step", {}),
        ("ordered", "entry", {"step_within": ["2h", "3h"], "by_value": "last"}),
    ],
)
def test_funnels_agree_on_spark_and_duckdb(on_both, mode, window_from, options):
    import journeylib as jl

    duck, spark = on_both(JOURNEYS)
    tables = [
        jl.funnel(
            ev,
            ["view", "cart", "buy"],
            within="1d",
            mode=mode,
            window_from=window_from,
            by="channel",
            **options,
        ).table
        for ev in (duck, spark)
    ]
    columns = ["channel", "step_index", "users", "in_progress", "mean_seconds_from_entry"]
    pd.testing.assert_frame_equal(tables[0][columns], tables[1][columns], check_dtype=False)
    assert tables[0].users.sum() > 0
