"""The load pipeline's fast paths give exactly the tables of the general path.

- Parquet is staged as a view over the file (``pipeline.STAGE_VIEWS``) instead
  of a materialised table: same events, rejected rows, ledger and identities.
- A materialised stage in a workspace file is held to a memory budget
  (``pipeline.LOAD_MEMORY``), spilling to DuckDB's temporary directory: same
  tables, and the memory limit in force before is put back.
- The checksum is computed while the file loads and looked up before the
  commit: a copy of a loaded file under another name is rolled back and
  skipped, leaving the tables exactly as they were.
- GA4 event parameters are looked up in their list, not through a MAP of
  every parameter: the same values as the MAP.
- GA4 properties are built from parameters written out as text, not as a MAP
  turned into JSON: the same properties (so the same hashed
  event ids); a row whose parameter key repeats is rejected, naming the key.
- JSON-lines and CSV rows are numbered by their position in the staged table,
  not by ``row_number() over ()``: the same line numbers in a file that DuckDB
  reads on several threads.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import journeylib as jl
from journeylib.loading import pipeline
from journeylib.loading.sources import common, ga4
from tests.sources.test_ga4 import golden_parquet

GOLDEN = Path(__file__).parent / "golden"

#: every table a load writes, in a stable order (the ledger without its clock)
TABLES = {
    "events": "select * from events order by origin, event_id",
    "rejected": "select * from rejected order by origin, row",
    "loads": "select * exclude (loaded_at) from loads order by origin",
    "identities": "select * from identities order by anonymous_id",
}


def tables(ws: jl.Workspace) -> dict[str, list[list[object]]]:
    out = {}
    for name, query in TABLES.items():
        frame = ws.sql(query)
        out[name] = [[None if pd.isna(v) else v for v in row] for row in frame.values.tolist()]
    return out


def edge_case_parquets(folder: Path) -> list[Path]:
    """Two overlapping canonical exports with every kind of row the checks look at."""
    rows = [
        # event_id, user_id, anonymous_id, event_time, event_name, session_id, source, medium, campaign, revenue, properties, plan
        (
            "e1",
            None,
            "d1",
            "2024-01-01T10:00:00Z",
            "page_view",
            None,
            "google",
            "cpc",
            "spring",
            None,
            '{"device": "mobile"}',
            "pro",
        ),
        (
            "e2",
            None,
            "d1",
            "2024-01-01T10:05:00Z",
            "view_item",
            None,
            None,
            None,
            None,
            None,
            ' {"a": [1, 2.50]} ',
            None,
        ),
        (
            "e3",
            "alice",
            "d1",
            "2024-01-01T10:06:00Z",
            "sign_up",
            "s1",
            "newsletter",
            "email",
            None,
            None,
            "[1, 2]",
            "free",
        ),
        (
            "e3",
            "alice",
            "d1",
            "2024-01-01T10:07:00Z",
            "sign_up",
            "s1",
            None,
            None,
            None,
            None,
            None,
            None,
        ),  # repeated id
        (
            None,
            "bob",
            None,
            "2024-01-02T09:00:00",
            "purchase",
            None,
            None,
            None,
            None,
            "49.90",
            '{"x": null}',
            None,
        ),  # naive time, hashed id
        (
            "e5",
            "bob",
            None,
            "yesterday",
            "page_view",
            None,
            None,
            None,
            None,
            None,
            None,
            None,
        ),  # bad time
        (
            "e6",
            None,
            None,
            "2024-01-02T09:00:00Z",
            "page_view",
            None,
            None,
            None,
            None,
            None,
            None,
            None,
        ),  # no user
        (
            "e7",
            "bob",
            None,
            "2024-01-02T09:01:00Z",
            " ",
            None,
            None,
            None,
            None,
            None,
            None,
            None,
        ),  # no name
        (
            "e8",
            "bob",
            None,
            "2024-01-02T09:02:00Z",
            "purchase",
            None,
            None,
            None,
            None,
            "ten",
            None,
            None,
        ),  # bad revenue
        (
            "e9",
            "bob",
            None,
            "2024-01-02T09:03:00Z",
            "page_view",
            None,
            None,
            None,
            None,
            None,
            "{broken",
            None,
        ),  # bad JSON
        (
            "e10",
            "carol",
            "d3",
            "2024-01-03T09:00:00+02:00",
            "page_view",
            None,
            "(direct)",
            "(none)",
            None,
            "1e2",
            "null",
            "pro",
        ),
    ]
    columns = [
        "event_id", "user_id", "anonymous_id", "event_time", "event_name", "session_id",
        "source", "medium", "campaign", "revenue", "properties", "plan",
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=columns)
    first = folder / "first.parquet"
    frame.to_parquet(first, index=False)
    # an overlapping export: the last rows again, and one new row; "plan" dropped
    second = folder / "we'ird? name.parquet"  # quote and question mark: inlined into the view
    overlap = frame.iloc[8:].drop(columns=["plan"])
    extra = pd.DataFrame([("e11", "carol", "d3", "2024-01-04T09:00:00Z", "purchase", None, None, None, None, "5", "{}")], columns=columns[:-1])  # fmt: skip
    pd.concat([overlap, extra]).to_parquet(second, index=False)
    return [first, second]


def golden_parquets(folder: Path) -> list[Path]:
    """The attribution golden events (a realistic canonical CSV) as Parquet, typed by DuckDB."""
    out = []
    for name in ("events.csv", "crm_events.csv"):
        source = GOLDEN / "attribution" / name
        target = folder / name.replace(".csv", ".parquet")
        duckdb.sql(f"copy (select * from read_csv('{source}')) to '{target}' (format parquet)")
        out.append(target)
    return out


def load_both_ways(monkeypatch, paths: list[Path], **kwargs) -> tuple[dict, dict]:
    results = []
    for views in (True, False):
        monkeypatch.setattr(pipeline, "STAGE_VIEWS", views)
        with jl.open() as ws:
            for path in paths:  # one file at a time, so the second meets the first's rows
                ws.load_events(path, source="parquet", **kwargs)
            results.append(tables(ws))
    return results[0], results[1]


def test_parquet_staged_as_a_view_gives_the_tables_of_the_materialised_stage(monkeypatch, tmp_path):
    as_view, as_table = load_both_ways(
        monkeypatch, edge_case_parquets(tmp_path), tz="Europe/Berlin"
    )
    assert as_view == as_table
    # the case is not vacuous: rows of every kind went each way
    assert len(as_view["events"]) == 6 and len(as_view["rejected"]) == 7
    assert [row[4:8] for row in as_view["loads"]] == [[11, 5, 1, 5], [4, 1, 1, 2]]
    assert [row[:2] for row in as_view["identities"]] == [["d1", "alice"], ["d3", "carol"]]
    props = {row[0]: row[11] for row in as_view["events"]}
    assert props["e2"] == {"a": [1, 2.5]} and props["e3"] == {"plan": "free"}
    assert props["e10"] == {"plan": "pro"} and props["e11"] == {}


def test_golden_parquet_exports_give_the_same_tables_either_way(monkeypatch, tmp_path):
    as_view, as_table = load_both_ways(monkeypatch, golden_parquets(tmp_path))
    assert as_view == as_table and len(as_view["events"]) == 39


def test_a_view_stage_leaves_no_helper_behind_and_a_failure_rolls_back(ws, tmp_path):
    first, _ = edge_case_parquets(tmp_path)
    ws.load_events(first, source="parquet")
    views = ws.sql("select view_name from duckdb_views() where temporary and not internal")
    helpers = ws.sql("select table_name from duckdb_tables() where temporary")
    assert views.empty and "_stage" not in helpers.table_name.tolist()
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(first.read_bytes()[:-100])
    with pytest.raises(jl.DataError, match=r"broken\.parquet"):
        ws.load_events(broken, source="parquet")
    assert ws.info()["events"] == 5


def test_inlined_parameters_are_literals_and_quoted_text_is_left_alone():
    sql = "select ?, '?', \"a?\"\"?\", e'\\\\\\'?', E'x\\'y?' || ?, f(?) /* ? */ -- ?\n, ?"
    assert pipeline._inline(sql, ["it's", "x", None, 2.5]) == (
        "select 'it''s', '?', \"a?\"\"?\", e'\\\\\\'?', E'x\\'y?' || 'x', f(NULL) /* ? */ -- ?\n, 2.5"
    )
    assert pipeline._inline("select ?", []) is None  # too few parameters
    assert pipeline._inline("select 1", [1]) is None  # too many
    assert pipeline._inline("select ?", [["a"]]) is None  # not a plain value


def test_a_file_workspace_loads_json_within_the_memory_budget(monkeypatch, tmp_path):
    ga4 = GOLDEN / "ga4" / "events_20240301.ndjson"
    with jl.open() as ws:
        ws.load_events(ga4, source="ga4")
        expected = tables(ws)
    monkeypatch.setattr(pipeline, "LOAD_MEMORY", 64 * 2**20)
    with jl.open(tmp_path / "w.duckdb") as ws:
        ws.engine.execute("SET memory_limit = '3GiB'")
        report = ws.load_events(ga4, source="ga4")
        assert (report.loaded, report.rejected) == (8, 2)
        assert tables(ws) == expected
        # the limit in force before the load is back
        assert ws.sql("select current_setting('memory_limit')").iloc[0, 0] == "3.0 GiB"
        ws.engine.execute("RESET memory_limit")
        default = ws.sql("select current_setting('memory_limit')").iloc[0, 0]
        copy = tmp_path / "copy.ndjson"
        shutil.copy(ga4, copy)
        copy.write_text(ga4.read_text().replace("page_view", "page_vue"))
        ws.load_events(copy, source="ga4")
        assert ws.sql("select current_setting('memory_limit')").iloc[0, 0] == default


def test_json_lines_longer_than_duckdbs_default_limit_still_load(ws, tmp_path):
    row = json.loads((GOLDEN / "ga4" / "events_20240301.ndjson").read_text().splitlines()[0])
    row["note"] = "x" * 5_000_000  # DuckDB's default maximum line is 2 MB
    path = tmp_path / "long.ndjson"
    path.write_text(json.dumps(row) + "\n" + json.dumps({**row, "note": "short"}) + "\n")
    report = ws.load_events(path, source="ga4")
    assert (report.loaded, report.rejected) == (2, 0)
    lengths = ws.sql("select length(properties.note::varchar) as n from events order by n")
    assert lengths.n.tolist() == [5, 5_000_000]


EVIL = "x'; drop table events; --"


def ga4_edge_cases(folder: Path) -> Path:
    """A GA4 export with every kind of bad line, a repeated line and a hostile name."""
    lines = (GOLDEN / "ga4" / "events_20240301.ndjson").read_text().splitlines()
    row = json.loads(lines[0])
    evil = {**row, "user_id": EVIL, "user_pseudo_id": EVIL, "event_name": EVIL}
    params = [  # every kind of value, a parameter without one, and the traffic keys
        {"key": key, "value": value}
        for key, value in [
            ("source", {"string_value": EVIL}),
            ("medium", {"int_value": "7"}),
            ("campaign", {"double_value": 2.5}),
            ("ga_session_id", {"float_value": 1.0}),
            ("empty", {"string_value": None}),
        ]
    ]
    path = folder / "edge.ndjson"
    path.write_text(
        "\n".join(
            [
                *lines[:4],
                "",  # an empty line still counts as a line
                lines[1],  # the same event again: the same hashed id
                "not json at all",
                json.dumps({k: v for k, v in row.items() if k != "event_timestamp"}),
                json.dumps({k: v for k, v in row.items() if k != "event_name"}),
                json.dumps({**row, "event_timestamp": "2024-03-01T09:00:00Z"}),
                json.dumps(evil),
                json.dumps({**row, "event_name": "typed", "event_params": params}),
                json.dumps({**row, "event_name": "no_params", "event_params": None}),
                lines[4][:50],  # truncated in the middle of the file
                *lines[4:],
            ]
        )
    )
    return path


def test_ga4_params_looked_up_in_the_list_give_the_tables_of_a_map_of_every_param(
    monkeypatch, tmp_path
):
    edge = ga4_edge_cases(tmp_path)
    gz = tmp_path / "golden.ndjson.gz"
    gz.write_bytes(gzip.compress((GOLDEN / "ga4" / "events_20240301.ndjson").read_bytes()))
    value = (
        "coalesce(p.value.string_value, p.value.int_value,"
        " cast(p.value.double_value as varchar), cast(p.value.float_value as varchar))"
    )
    results = []
    for lookup in (
        ga4._param,
        lambda key: (
            f"map_from_entries(list_transform(g.event_params, lambda p: {{'k': p.key, 'v': {value}}}))[{key!r}]"
        ),
    ):
        monkeypatch.setattr(ga4, "_param", lookup)
        with jl.open() as ws:
            for path in (edge, gz, golden_parquet(tmp_path)):
                ws.load_events(path, source="ga4")
            results.append(tables(ws))
    assert results[0] == results[1]
    typed = [row for row in results[0]["events"] if row[4] == "typed"]
    assert [row[5:10] for row in typed] == [["d1:1.0", "Unassigned", EVIL, "7", "2.5"]]


#: The properties as GA4 rows got them before parameters were written as text:
#: a MAP of the typed values turned into JSON, merged in two steps.
OLD_VALUE = (
    "coalesce(to_json(p.value.string_value), to_json(try_cast(p.value.int_value as bigint)),"
    " to_json(p.value.float_value), to_json(p.value.double_value))"
)


def old_flatten(params: str) -> str:
    return f"coalesce(to_json(map_from_entries(list_transform({params}, lambda p: {{'k': p.key, 'v': {OLD_VALUE}}}))), '{{}}')"


OLD_PROPERTIES = (
    "json_merge_patch(_raw, json_merge_patch(json_object('event_params', null,"
    f" 'user_properties', {old_flatten('g.user_properties')}), {old_flatten('g.event_params')}))"
)


def test_ga4_properties_are_those_of_a_map_merged_in_two_steps(ws, tmp_path):
    golden = (GOLDEN / "ga4" / "events_20240301.ndjson").read_text().splitlines()
    row = json.loads(golden[0])

    def param(key: str, **value: object) -> dict[str, object]:
        return {"key": key, "value": value}

    params = [
        param("s", string_value='quote " and \\ and \u00e9 and \u2603'),
        param("i", int_value="-9007199254740993"),
        param("big", int_value="99999999999999999999"),  # beyond BIGINT: left out, as before
        param("not_a_number", int_value="12abc"),
        param("f", float_value=1e-7),
        param("d", double_value=1e20),
        param("zero", double_value=-0.0),
        param("none"),
        param("all_null", string_value=None, int_value=None),
        param("platform", string_value="from a param"),  # named like a top-level field
        param("geo", int_value="1"),
        param("event_params", string_value="a param named event_params"),
        param("sp\u00e4ce 'key'", string_value=""),
    ]
    user = [param("tier", string_value="gold"), param("visits", int_value="3"), param("gone")]
    lines = [
        *golden[:7],
        json.dumps({**row, "platform": "WEB", "event_params": params, "user_properties": user}),
        json.dumps({**row, "event_name": "a", "event_params": [], "user_properties": []}),
        json.dumps({**row, "event_name": "b", "event_params": None, "user_properties": None}),
        json.dumps({k: v for k, v in row.items() if k != "event_params"}),
        json.dumps({**row, "user_properties": [param("user_properties", string_value="x")]}),
        json.dumps({**row, "event_params": [param("user_properties", int_value="5")]}),
    ]
    path = tmp_path / "params.ndjson"
    path.write_text("\n".join(lines) + "\n")
    assert ws.load_events(path, source="ga4").loaded == len(lines)
    loaded = ws.sql("select to_json(properties)::varchar as p from events").p.tolist()
    con = duckdb.connect()
    con.execute("create table lines as select unnest(?::varchar[]) as _raw", [lines])
    before = con.execute(
        f"select to_json(cast(({OLD_PROPERTIES})::json as variant))::varchar from"
        f" (select _raw, from_json(_raw, {ga4.literal(ga4._STRUCTURE)}) as g from lines)"
    ).fetchall()
    assert sorted(loaded) == sorted(p for (p,) in before)
    typed = json.loads(next(p for p in loaded if '"all_null"' not in p and '"tier"' in p))
    assert typed["platform"] == "from a param" and typed["user_properties"] == {
        "tier": "gold",
        "visits": 3,
    }
    assert "big" not in typed and "none" not in typed and typed["i"] == -9007199254740993


def test_a_ga4_row_with_a_parameter_key_repeated_or_missing_is_rejected_naming_it(ws, tmp_path):
    lines = (GOLDEN / "ga4" / "events_20240301.ndjson").read_text().splitlines()[:3]
    row = json.loads(lines[0])
    first = row["event_params"][0]
    bad = [
        {**row, "event_params": [*row["event_params"], first]},
        {**row, "event_params": [{"key": None, "value": {"int_value": "1"}}]},
        {**row, "user_properties": [first, {"key": "x"}, first]},
    ]
    path = tmp_path / f"{EVIL}.ndjson"
    path.write_text("\n".join([lines[0], *map(json.dumps, bad), *lines[1:]]) + "\n")
    report = ws.load_events(path, source="ga4")
    assert (report.rows, report.loaded, report.rejected) == (6, 3, 3)
    assert report.rejected_rows[["row", "field", "reason"]].values.tolist() == [
        [2, "event_params", 'parameter "ga_session_id" is given more than once'],
        [3, "event_params", "a parameter has no key"],
        [4, "user_properties", 'parameter "ga_session_id" is given more than once'],
    ]
    assert report.rejected_rows.raw.map(json.loads).tolist() == bad


def test_rows_of_a_file_read_on_several_threads_keep_their_line_numbers(monkeypatch, ws, tmp_path):
    """DuckDB reads a JSON-lines file on one thread per buffer: with 1 MB
    buffers this 30 MB file is read on every core. Bad lines spread through it
    are each rejected under their own line number, also when the user had
    told DuckDB it need not keep the order of rows (the setting is put back)."""
    monkeypatch.setattr(common, "LINE_BUFFERS", "max_line_size=500000, buffer_size=1000000")
    ws.engine.execute("SET preserve_insertion_order = false")
    lines = (GOLDEN / "ga4" / "events_20240301.ndjson").read_text().splitlines()
    row = json.loads(lines[0])
    padding = "p" * 600
    out, bad = [], []
    for n in range(1, 45_001):
        if n % 4_999 == 0:
            out.append(f"broken line {n}")
            bad.append(n)
        elif n % 7_001 == 0:
            out.append("")
        else:
            out.append(
                json.dumps({**row, "event_timestamp": str(1709283600000000 + n), "pad": padding})
            )
    path = tmp_path / "long.ndjson"
    path.write_text("\n".join(out) + "\n")
    assert path.stat().st_size > 28 * 2**20
    report = ws.load_events(path, source="ga4")
    blank = 45_000 // 7_001
    assert (report.rows, report.rejected) == (45_000 - blank, len(bad))
    assert report.rejected_rows.row.tolist() == bad
    assert report.rejected_rows.raw.tolist() == [f"broken line {n}" for n in bad]
    # the rows loaded in order too: no event lost or doubled
    stamps = ws.sql("select epoch_us(event_time) - 1709283600000000 as n from events order by n")
    good = [n for n in range(1, 45_001) if n % 4_999 and n % 7_001]
    assert stamps.n.tolist() == good
    assert not ws.engine.scalar("select current_setting('preserve_insertion_order')")


def test_a_copy_under_another_name_is_loaded_then_rolled_back_and_skipped(monkeypatch, tmp_path):
    edge = ga4_edge_cases(tmp_path)
    copy = tmp_path / f"{EVIL}.ndjson"
    shutil.copy(edge, copy)
    staged = []
    load = pipeline._load
    monkeypatch.setattr(pipeline, "_load", lambda *args: staged.append(args[2]) or load(*args))
    with jl.open() as ws:
        first = ws.load_events(edge, source="ga4")
        before = tables(ws)
        again = ws.load_events([copy, edge], source="ga4")
        assert tables(ws) == before
        views = ws.sql("select view_name from duckdb_views() where temporary and not internal")
        assert views.empty
    # rows, loaded, duplicates, rejected of the one load
    assert [row[4:8] for row in before["loads"]] == [[19, 11, 1, 7]]
    assert [f.status for f in again.files] == ["skipped (already loaded)"] * 2
    assert {f.checksum for f in [*first.files, *again.files]} == {first.files[0].checksum}
    # the copy was loaded before its checksum was known; the re-load of the same path was not
    assert staged == [str(edge), str(copy)]


def test_a_copy_that_its_reader_rejects_is_still_skipped(ws, tmp_path):
    events = GOLDEN / "attribution" / "events.csv"
    ws.load_events(events)
    copy = tmp_path / "copy.csv"
    shutil.copy(events, copy)
    report = ws.load_events(copy, mapping={"event_name": "no such column"})
    assert [f.status for f in report.files] == ["skipped (already loaded)"]
    with pytest.raises(jl.DataError, match="no such column"):
        ws.load_events(GOLDEN / "funnels" / "events.csv", mapping={"event_name": "no such column"})
