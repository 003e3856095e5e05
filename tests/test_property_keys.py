"""Property keys are data: ``$browser``, ``a.b``, ``$$`` and quotes are keys, never JSON paths.

A dotted name reaches a nested key only where an event has no key of that
literal name. Expected counts are worked out by hand from the rows below.
"""

from __future__ import annotations

import json

import pytest

import journeylib as jl
from journeylib.faces.cli import main

# Unmapped CSV columns become properties keys with these exact names.
ROWS = (
    'user_id,event_name,event_time,$browser,a.b,$$,"say ""hi""",it\'s\n'
    "u1,view,2024-01-01T10:00:00Z,firefox,x,1,yes,o\n"
    "u1,buy,2024-01-01T10:05:00Z,firefox,x,1,yes,o\n"
    "u2,view,2024-01-01T11:00:00Z,chrome,y,2,no,p\n"
    "u3,view,2024-01-01T12:00:00Z,chrome,x,2,no,p\n"
    "u3,buy,2024-01-01T12:30:00Z,chrome,x,2,no,p\n"
)


@pytest.fixture
def events(ws, tmp_path) -> jl.Events:
    path = tmp_path / "events.csv"
    path.write_text(ROWS)
    ws.load_events(path)
    return ws.events()


@pytest.mark.parametrize(
    ("key", "groups"),
    [
        ("$browser", {"firefox": [1, 1], "chrome": [2, 1]}),
        ("a.b", {"x": [2, 2], "y": [1, 0]}),
        ("$$", {"1": [1, 1], "2": [2, 1]}),
        ('say "hi"', {"yes": [1, 1], "no": [2, 1]}),
        ("it's", {"o": [1, 1], "p": [2, 1]}),
    ],
)
def test_a_funnel_breaks_down_by_any_literal_key(events, key, groups):
    table = jl.funnel(events, ["view", "buy"], by=key).table
    got = {g: table[table[key] == g].users.tolist() for g in groups}
    assert got == groups


def test_prop_reads_a_dotted_key_as_the_key(events):
    assert events.where(events.prop("a.b") == "x").count() == 4
    assert events.where(events.prop("$browser") == "chrome").count() == 3


def test_a_dotted_name_reaches_a_nested_key_only_where_no_literal_key_exists(ws, tmp_path):
    lines = [  # a.b literally on the first, only nested on the second, both on the third
        {
            "user_id": "u1",
            "event_name": "view",
            "event_time": "2024-01-01T10:00:00Z",
            "properties": {"a.b": "literal"},
        },
        {
            "user_id": "u2",
            "event_name": "view",
            "event_time": "2024-01-01T10:00:00Z",
            "properties": {"a": {"b": "nested"}},
        },
        {
            "user_id": "u3",
            "event_name": "view",
            "event_time": "2024-01-01T10:00:00Z",
            "properties": {"a.b": "both-literal", "a": {"b": "both-nested"}},
        },
    ]
    path = tmp_path / "events.csv"
    path.write_text(
        "user_id,event_name,event_time,properties\n"
        + "".join(
            f'{r["user_id"]},{r["event_name"]},{r["event_time"]},"{json.dumps(r["properties"]).replace(chr(34), chr(34) * 2)}"\n'
            for r in lines
        )
    )
    ws.load_events(path)
    ev = ws.events()
    values = ev.table.select("user_id", v=ev.prop("a.b")).order_by("user_id").execute()
    assert values.v.tolist() == ["literal", "nested", "both-literal"]


def test_stage_rule_conditions_read_literal_keys(events):
    stages = jl.Stages(
        {"chrome view": {"events": ["view"], "where": {"$browser": "chrome"}}, "buy": "buy"}
    )
    assert jl.funnel(events, stages).table.users.tolist() == [2, 1]


@pytest.mark.parametrize(
    ("key", "first", "second"), [("$browser", "firefox", "chrome"), ("$$", "1", "2")]
)
def test_the_cli_breaks_down_by_dollar_keys(tmp_path, capsys, key, first, second):
    path = tmp_path / "events.csv"
    path.write_text(ROWS)
    db = str(tmp_path / "w.duckdb")
    assert main(["load", "--db", db, "--source", "csv", str(path)]) == 0
    capsys.readouterr()
    assert main(["funnel", "--db", db, "--steps", "view,buy", "--by", key, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {(r[key], r["step"]): r["users"] for r in rows} == {
        (first, "view"): 1,
        (first, "buy"): 1,
        (second, "view"): 2,
        (second, "buy"): 1,
    }
