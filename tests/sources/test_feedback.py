"""Surveys and tickets: feedback rows, events on the journey, score ranges."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

NPS = (
    "response_id,user_id,submitted_at,score,comment\n"
    "r1,alice,2024-03-01T10:00:00Z,9,Love it\n"
    'r2,bob,2024-03-02T10:00:00Z,3,"Slow delivery, ""again"""\n'
    "r3,carol,2024-03-03T10:00:00Z,11,?\n"
    "r4,dan,2024-03-04T10:00:00Z,7.5,?\n"
)
TICKETS = (
    "ticket_id,requester_id,created_at,subject,status,priority,satisfaction_rating\n"
    "T1,bob,2024-03-02T11:00:00Z,Where is my order?,solved,high,bad\n"
)


def test_nps_answers_and_tickets_become_feedback_and_events(ws, tmp_path):
    nps, tickets = tmp_path / "nps.csv", tmp_path / "tickets.csv"
    nps.write_text(NPS)
    tickets.write_text(TICKETS)
    report = ws.load_feedback(nps, kind="nps")
    assert (report.loaded, report.rejected) == (2, 2)
    assert report.rejected_rows[["row", "field", "reason"]].values.tolist() == [
        [3, "score", "score out of range: 11 (nps scores are whole numbers from 0 to 10)"],
        [4, "score", "score out of range: 7.5 (nps scores are whole numbers from 0 to 10)"],
    ]
    assert ws.load_feedback(tickets, kind="ticket").loaded == 1
    rows = ws.sql(
        "select feedback_id, user_id, kind, score, text from feedback order by event_time"
    )
    assert [[None if pd.isna(v) else v for v in r] for r in rows.values.tolist()] == [
        ["r1", "alice", "nps", 9.0, "Love it"],
        ["r2", "bob", "nps", 3.0, 'Slow delivery, "again"'],
        ["T1", "bob", "ticket", None, "Where is my order?"],
    ]
    events = ws.sql("select user_id, event_name, properties from events order by event_time")
    assert events[["user_id", "event_name"]].values.tolist() == [
        ["alice", "nps_response"],
        ["bob", "nps_response"],
        ["bob", "support_ticket"],
    ]
    ticket = events.properties.iloc[2]
    assert (ticket["priority"], ticket["status"], ticket["text"]) == (
        "high",
        "solved",
        "Where is my order?",
    )


def test_reloading_feedback_is_a_no_op(ws, tmp_path):
    nps = tmp_path / "nps.csv"
    nps.write_text(NPS)
    ws.load_feedback(nps, kind="nps")
    assert ws.load_feedback(nps, kind="nps").files[0].status == "skipped (already loaded)"
    assert ws.sql("select count(*) from events").iloc[0, 0] == 2


GOLDEN = Path(__file__).parent.parent / "golden" / "feedback"


def test_golden_nps_and_tickets_match_expected_csv(ws):
    # r2 12:00+01:00 -> 11:00 UTC; r3 naive -> UTC; r4 11 and r5 -1 out of 0..10; r6 not a number;
    # T3 "yesterday" is not a timestamp.
    nps = ws.load_feedback(GOLDEN / "nps.csv", kind="nps")
    tickets = ws.load_feedback(GOLDEN / "tickets.csv", kind="ticket")
    assert (nps.loaded, nps.rejected, tickets.loaded, tickets.rejected) == (3, 3, 2, 1)
    allowed = " (nps scores are whole numbers from 0 to 10)"
    assert nps.rejected_rows[["row", "field", "reason"]].values.tolist() == [
        [4, "score", "score out of range: 11" + allowed],
        [5, "score", "score out of range: -1" + allowed],
        [6, "score", "not a valid number: eight"],
    ]
    assert tickets.rejected_rows[["row", "field"]].values.tolist() == [[3, "created_at"]]
    got = ws.sql(
        "select feedback_id, user_id,"
        " strftime(event_time at time zone 'UTC', '%Y-%m-%d %H:%M:%S') as event_time,"
        " kind, score, text from feedback order by feedback_id"
    )
    expected = pd.read_csv(GOLDEN / "expected_feedback.csv")
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    events = ws.sql("select event_name, count(*) as n from events group by 1 order by 1")
    assert events.values.tolist() == [["nps_response", 3], ["support_ticket", 2]]
