"""Property keys are data: ``$browser``, ``a.b``, ``$$`` and quotes are keys, never JSON paths.

A dotted name reaches a nested key only where an event has no key of that
literal name. Expected counts are worked out by hand from the rows below.
"""

from __future__ import annotations

import json

import ibis
import pytest

import journeylib as jl
from journeylib.core.sql import literal as sql_literal
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
            "properties": {"a": {"b": "nested", "c": "n2"}},
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
    # a breakdown value follows the same rule, and reads only nested keys when no event
    # has the dotted name as a key
    values = ev.table.select("user_id", v=ev.value("a.b"), w=ev.value("a.c"))
    values = values.order_by("user_id").execute().fillna("-")
    assert values.values.tolist() == [
        ["u1", "literal", "-"],
        ["u2", "nested", "n2"],
        ["u3", "both-literal", "-"],
    ]


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


#: one event's properties, and each key's text as worked out by hand: numbers and booleans
#: as written, a JSON null as NULL, an object or list as its JSON text (keys sorted)
VALUES = {"s": "x", "i": 3, "f": 2.5, "t": True, "n": None, "o": {"c": "m"}, "l": [1, "a"]}
TEXTS = {"s": "x", "i": "3", "f": "2.5", "t": "true", "n": None, "o": '{"c":"m"}', "l": '[1,"a"]'}


def test_keys_read_the_same_stored_as_a_variant_or_as_json_text(ws, tmp_path):
    text = json.dumps(VALUES, separators=(",", ":"))
    path = tmp_path / "events.csv"
    path.write_text(
        "user_id,event_name,event_time,properties\n"
        f'u1,view,2024-01-01T10:00:00Z,"{text.replace(chr(34), chr(34) * 2)}"\n'
    )
    ws.load_events(path)
    backend = ibis.duckdb.connect()
    backend.raw_sql(
        "create table ev as select 'u1' as user_id, 'view' as event_name,"
        f" timestamptz '2024-01-01 10:00:00+00' as event_time, {sql_literal(text)}::json as properties"
    )
    stored = {"variant": ws.events(), "json": jl.connect(backend, events="ev").events()}
    assert [str(ev.table.properties.type()) for ev in stored.values()] == ["jsonb", "json"]
    for kind, ev in stored.items():
        got = ev.table.select(**{k: ev.value(k) for k in TEXTS if k != "n"}).execute()
        assert got.iloc[0].to_dict() == {k: v for k, v in TEXTS.items() if k != "n"}, kind
        strings = ev.table.select(s=ev.prop("s"), i=ev.prop("i"), n=ev.prop("n")).execute()
        assert strings.s.tolist() == ["x"] and strings[["i", "n"]].isna().all(axis=None), kind
        assert ev.property_keys() == sorted(VALUES), kind
        assert ev.to_pandas().properties.iloc[0] == VALUES, kind
