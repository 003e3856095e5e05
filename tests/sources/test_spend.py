"""Ad spend: Google Ads, Meta and generic layouts, channels, bad costs, dedupe."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import journeylib as jl

GOOGLE = (
    "Day,Campaign,Campaign type,Currency code,Cost,Impressions,Clicks\n"
    "2024-03-01,Brand,Search,USD,120.50,1000,80\n"
    '2024-03-01,Remarketing,Display,USD,"1,020.00",50000,40\n'
    "2024-03-01,Launch,Video,USD,n/a,1,1\n"
    "2024-03-02,'; drop table events; --,Demand Gen,USD,5,1,1\n"
)
META = (
    "Reporting starts,Reporting ends,Campaign name,Amount spent (USD),Impressions,Link clicks\n"
    "2024-03-01,2024-03-01,Spring,300,10000,120\n"
)


def test_google_ads_and_meta_layouts_map_to_channel_groups(ws, tmp_path):
    google, meta = tmp_path / "google.csv", tmp_path / "meta.csv"
    google.write_text(GOOGLE)
    meta.write_text(META)
    report = ws.load_spend([google, meta])
    assert (report.loaded, report.rejected) == (4, 1)
    assert report.rejected_rows[["row", "field", "reason"]].values.tolist() == [
        [3, "Cost", "not a valid number: n/a"]
    ]
    rows = ws.sql(
        "select strftime(date, '%Y-%m-%d'), channel, campaign, cost, currency from spend order by 1, 2"
    )
    assert rows.values.tolist() == [
        ["2024-03-01", "Display", "Remarketing", 1020.0, "USD"],
        ["2024-03-01", "Paid Search", "Brand", 120.5, "USD"],
        ["2024-03-01", "Paid Social", "Spring", 300.0, "USD"],
        ["2024-03-02", "Paid Social", "'; drop table events; --", 5.0, "USD"],
    ]


def test_overlapping_exports_keep_one_row_per_day_channel_campaign(ws, tmp_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("date,channel,campaign,cost,currency\n2024-03-01,Email,News,10,EUR\n")
    second.write_text(
        "date,channel,campaign,cost,currency\n2024-03-01,Email,News,10,EUR\n2024-03-02,Email,News,12,EUR\n"
    )
    report = ws.load_spend([first, second])
    assert (report.loaded, report.duplicates) == (2, 1)


def test_a_forced_layout_that_does_not_fit_names_the_missing_column(ws, tmp_path):
    path = tmp_path / "meta.csv"
    path.write_text(META)
    with pytest.raises(jl.DataError, match=r"meta\.csv, field date: no column for date"):
        ws.load_spend(path, format="generic")
    with pytest.raises(jl.ParameterError, match=r"Did you mean 'meta'"):
        ws.load_spend(path, format="metta")


GOLDEN = Path(__file__).parent.parent / "golden" / "spend"


def test_golden_google_ads_report_matches_expected_csv(ws):
    # Search/Shopping/Performance Max -> Paid Search, Demand Gen -> Paid Social; "n/a" rejected;
    # Brand on 2024-03-02 appears twice: the first (99) is kept, one duplicate.
    report = ws.load_spend(GOLDEN / "google_ads.csv")
    assert (report.rows, report.loaded, report.duplicates, report.rejected) == (9, 7, 1, 1)
    assert report.rejected_rows[["row", "field", "reason"]].values.tolist() == [
        [4, "Cost", "not a valid number: n/a"]
    ]
    got = ws.sql(
        "select strftime(date, '%Y-%m-%d') as date, channel, campaign, cost, currency"
        " from spend order by 1, 2, 3"
    )
    expected = pd.read_csv(GOLDEN / "expected_spend.csv")
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert ws.sql("select count(*) from events").iloc[0, 0] == 0  # the table is still there
