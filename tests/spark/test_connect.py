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
