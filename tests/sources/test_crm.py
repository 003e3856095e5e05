"""CRM deals: customers rows, milestone events, rejects and re-exports."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import journeylib as jl

HEADER = "deal_id,contact_id,pipeline,dealstage,amount,currency,createdate,date_entered_lead,date_entered_opportunity,date_entered_closedwon,date_entered_closedlost,owner\n"
ROWS = (
    'D1,alice,Teams,closedwon,"1,200.00",EUR,2024-01-05T10:00:00Z,2024-01-05T10:00:00Z,2024-01-20T09:00:00Z,2024-02-01T09:00:00Z,,kim\n'
    "D2,bob,Teams,closedlost,800,EUR,2024-01-07 12:00:00,,2024-01-25T09:00:00Z,,2024-02-10T09:00:00Z,kim\n"
    "D3,,Teams,lead,100,EUR,2024-01-08T10:00:00Z,,,,,lee\n"
    "D4,carol,Teams,lead,lots,EUR,2024-01-09T10:00:00Z,,,,,lee\n"
)


def write(tmp_path, body, name="deals.csv"):
    path = tmp_path / name
    path.write_text(HEADER + body, "utf-8")
    return path


def test_deals_land_with_milestones_and_bad_rows_are_explained(ws, tmp_path):
    report = ws.load_deals(write(tmp_path, ROWS), tz="Europe/Paris")
    assert (report.rows, report.loaded, report.rejected) == (4, 2, 2)
    assert report.rejected_rows[["row", "field", "reason"]].values.tolist() == [
        [3, "contact_id", "missing user_id"],
        [4, "amount", "not a valid number: lots"],
    ]
    deals = ws.sql(
        "select deal_id, user_id, amount, created_at, properties->>'owner' as owner from customers order by 1"
    )
    assert deals.values.tolist() == [
        ["D1", "alice", 1200.0, pd.Timestamp("2024-01-05T10:00Z"), "kim"],
        # naive 12:00 in Paris (UTC+1 in January) is 11:00 UTC
        ["D2", "bob", 800.0, pd.Timestamp("2024-01-07T11:00Z"), "kim"],
    ]
    events = ws.sql(
        "select user_id, event_name, event_time, revenue, session_id from events order by event_time"
    )
    assert events[["user_id", "event_name"]].values.tolist() == [
        ["alice", "crm_lead_created"],
        ["bob", "crm_lead_created"],  # no lead date: the creation date
        ["alice", "crm_opportunity_created"],
        ["bob", "crm_opportunity_created"],
        ["alice", "crm_deal_won"],
        ["bob", "crm_deal_lost"],
    ]
    assert events.revenue.fillna(0).tolist() == [0, 0, 0, 0, 1200.0, 0]
    assert set(events.session_id) == {"crm:D1", "crm:D2"}
    assert report.notes == [
        f"{tmp_path / 'deals.csv'}: 1 created_at values had no time zone and were read as Europe/Paris"
    ]


def test_a_later_export_adds_new_deals_and_milestones_once(ws, tmp_path):
    ws.load_deals(write(tmp_path, ROWS, "jan.csv"))
    later = ROWS.splitlines()[0] + "\nD5,dan,Teams,lead,50,EUR,2024-02-02T10:00:00Z,,,,,lee\n"
    report = ws.load_deals(write(tmp_path, later, "feb.csv"))
    assert (report.loaded, report.duplicates) == (1, 1)
    assert ws.sql("select count(*) from events where event_name = 'crm_deal_won'").iloc[0, 0] == 1
    assert ws.sql("select count(*) from customers").iloc[0, 0] == 3


def test_other_crms_load_with_a_mapping_and_a_wrong_column_is_named(ws, tmp_path):
    path = tmp_path / "salesforce.csv"
    path.write_text(
        "Opportunity ID,Account ID,Amount,Created Date,Close Date Won\nO1,acme,5,2024-03-01T00:00:00Z,2024-03-09T00:00:00Z\n"
    )
    mapping = {
        "deal_id": "Opportunity ID",
        "user_id": "Account ID",
        "amount": "Amount",
        "created_at": "Created Date",
        "won_at": "Close Date Won",
    }
    assert ws.load_deals(path, mapping=mapping).loaded == 1
    with pytest.raises(
        jl.DataError,
        match=r"field Acount ID: column 'Acount ID' \(for user_id\).*did you mean 'Account ID'",
    ):
        ws.load_deals(path, mapping={**mapping, "user_id": "Acount ID"})


GOLDEN = Path(__file__).parent.parent / "golden" / "crm"


def test_golden_deals_give_the_hand_worked_milestones_and_rejects(ws):
    # D1 opportunity 12:00+02:00 -> 10:00 UTC; D2 has no lead date -> createdate (naive, UTC);
    # D3 lead date wins over createdate; D4 bad amount, D5 bad createdate, D6 no contact.
    report = ws.load_deals(GOLDEN / "deals.csv")
    assert (report.rows, report.loaded, report.rejected) == (6, 3, 3)
    assert report.rejected_rows[["row", "field", "reason"]].values.tolist() == [
        [4, "amount", "not a valid number: abc"],
        [5, "createdate", "not a valid timestamp: not-a-date"],
        [6, "contact_id", "missing user_id"],
    ]
    assert any("no time zone" in note for note in report.notes)
    got = ws.sql(
        "select user_id, strftime(event_time at time zone 'UTC', '%Y-%m-%d %H:%M:%S') as event_time,"
        " event_name, session_id, revenue from events order by event_time, event_name"
    )
    expected = pd.read_csv(GOLDEN / "expected_events.csv")
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    deals = ws.sql(
        "select deal_id, amount, coalesce(won_at is not null, false) from customers order by 1"
    )
    assert deals.fillna(-1).values.tolist() == [
        ["D1", 2500.0, True],
        ["D2", 900.0, False],
        ["D3", -1, False],
    ]
    assert ws.load_deals(GOLDEN / "deals.csv").files[0].status == "skipped (already loaded)"
