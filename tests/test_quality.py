"""Data quality: the checks count what the loads did, worked out by hand."""

from __future__ import annotations

import journeylib as jl
from journeylib.loading.quality import data_quality

CSV = (
    "user_id,anonymous_id,event_name,event_time,source,medium,session_id\n"
    "u1,,view,2024-01-01T10:00:00Z,google,organic,s1\n"
    ",d9,view,2024-01-01T11:00:00Z,weird,thing,s2\n"
    "u2,,view,2024-01-02T10:00:00Z,,,s3\n"
    "u2,,view,not-a-time,,,s3\n"
)


def test_quality_counts_rejects_duplicates_and_gaps(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text(CSV, "utf-8")
    ws = jl.open()
    ws.load_events(path)
    result = data_quality(ws)
    checks = dict(zip(result.table.check, result.table.value, strict=True))
    assert checks["events"] == 3
    assert checks["users"] == 3  # u1, u2 and the anonymous device d9
    assert checks["anonymous_only_events"] == 1
    assert checks["rows_rejected"] == 1
    assert checks["unassigned_channel"] == 1 / 3  # weird/thing matches no rule
    rejected = result.extras["rejected_by_reason"]
    assert rejected[["field", "reason", "rows", "first_row"]].values.tolist() == [
        ["event_time", "not a valid timestamp: not-a-time", 1, 4]
    ]
    assert result.extras["events_per_day"].events.tolist() == [2, 1]
    assert result.chart().to_dict()["mark"]["type"] == "line"
