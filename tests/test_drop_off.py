"""Drop-off per stage against a plain-Python oracle built on the journey map's stage reach."""

from __future__ import annotations

import pandas as pd
import pytest
from oracles import events as canonical
from oracles.journey_map import STAGES, oracle_drop_off, random_log

import journeylib as jl
from journeylib.analyses.drop_off import drop_off


@pytest.mark.parametrize("seed", range(4))
def test_last_events_and_stage_summary_equal_the_oracle(seed: int) -> None:
    frame, feedback = random_log(seed)
    result = drop_off(canonical(frame, feedback), STAGES, top=100, min_support=1)
    expected_last, expected_stages = oracle_drop_off(frame)
    ours = {(r.stage_index, r.last_event): r.people for r in result.table.itertuples()}
    assert ours == dict(expected_last)
    shares = result.table.groupby("stage_index").share.sum()
    assert shares.tolist() == pytest.approx([1.0] * len(shares))
    for row in result.extras["stages"].itertuples():
        reached, moved, hours = expected_stages[row.stage_index]
        assert (row.reached, row.moved_on, row.left) == (reached, moved, reached - moved)
        if hours is None:
            assert pd.isna(row.median_hours_before_leaving)
        else:
            assert row.median_hours_before_leaving == pytest.approx(hours)


def test_low_survey_scores_before_leaving_are_a_pain_point() -> None:
    base = pd.Timestamp("2024-01-01T00:00:00Z")
    rows, feedback = [], []
    for i in range(40):  # everyone looks; u0-u19 buy; the 20 who leave gave a low score first
        rows.append((f"u{i}", "look", 0))
        if i < 20:
            rows.append((f"u{i}", "buy", 60))
        else:  # loaded feedback is also an event on the journey
            rows.append((f"u{i}", "nps_response", 5))
            feedback.append(
                {
                    "user_id": f"u{i}",
                    "event_time": base + pd.Timedelta(minutes=5),
                    "kind": "nps",
                    "score": 3.0,
                }
            )
    frame = pd.DataFrame(
        {
            "event_id": [f"e{i:03}" for i in range(len(rows))],
            "user_id": [u for u, _, _ in rows],
            "event_time": [base + pd.Timedelta(minutes=m) for _, _, m in rows],
            "event_name": [n for _, n, _ in rows],
            "session_id": [f"{u}-s" for u, _, _ in rows],
            "channel": None,
            "revenue": None,
        }
    )
    ev = canonical(frame, pd.DataFrame(feedback))
    result = drop_off(ev, jl.Stages({"look": ["look"], "buy": ["buy"]}), min_support=5)
    pain = result.extras["pain_points"].set_index("feature")
    assert pain.loc["nps <= 6", ["left_with", "moved_on_with"]].tolist() == [20, 0]
    # a zero cell: (20.5 x 20.5) / (0.5 x 0.5) = 1681 to one, turned round for leaving
    assert pain.loc["nps <= 6"].odds_ratio_of_leaving == pytest.approx(1681.0)
    assert result.table.values.tolist() == [[1, "look", "nps_response", 20, 1.0]]
    assert "<svg" in result.chart_svg()
