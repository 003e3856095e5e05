"""Tables as people read them: each format worked out by hand."""

from __future__ import annotations

import math

import pandas as pd

from journeylib.display.tables import MISSING, duration_text, formatted, table_html


def test_rates_are_percentages_only_when_they_are_shares() -> None:
    table = pd.DataFrame(
        {
            "conversion_rate": [0.5, 1.0, math.nan],
            "rate_of_change": [1.5, -0.25, 0.0],  # not in [0, 1]: a number, not a share
            "revenue": [1234.5, 0.0, 10.0],
            "people": pd.array([3000, None, 7], dtype="Int64"),
        }
    )
    shown = formatted(table)
    assert shown.conversion_rate.tolist() == ["50.0%", "100.0%", MISSING]
    assert shown.rate_of_change.tolist() == ["1.50", "-0.25", "0.00"]
    assert shown.revenue.tolist() == ["1,234.50", "0.00", "10.00"]
    assert shown.people.tolist() == ["3,000", MISSING, "7"]


def test_durations_round_to_their_last_unit() -> None:
    # 167.9999 hours is 7 days to the hour; 89.6 s is 1m 30s; 3,599.9 s is an hour
    assert duration_text(167.9999 * 3600) == "7d 0h"
    assert duration_text(89.6) == "1m 30s"
    assert duration_text(3599.9) == "1h 00m"
    assert duration_text(36 * 3600 + 29 * 60) == "1d 12h"
    hours = formatted(pd.DataFrame({"median_hours_in_stage": [0.5, 167.9999]}))
    assert hours.median_hours_in_stage.tolist() == ["30m 00s", "7d 0h"]


def test_the_html_escapes_names_and_values_and_says_what_it_leaves_out() -> None:
    table = pd.DataFrame({"event": ["<script>", "b", "c"], "users": [1, 2, 3]})
    page = table_html(table, max_rows=2)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "1 more row of 3" in page
    assert "nan" not in table_html(pd.DataFrame({"x": [math.nan]})).lower()
