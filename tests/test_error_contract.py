"""The error contract: every failure a user can cause is exit 2 with a message naming
the file, row, field or parameter; exit 1 is left for bugs."""

from __future__ import annotations

import os
import sys

import pytest

import journeylib as jl
from journeylib.core.sql import literal
from journeylib.faces.cli import main
from journeylib.loading.channels import load_rules

EVENTS = (
    "user_id,event_name,event_time\nu1,open,2024-01-01T10:00:00Z\nu1,buy,2024-01-01T11:00:00Z\n"
)


def write(folder, name: str, text: str | bytes):
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


@pytest.fixture
def db(tmp_path) -> str:
    path = str(tmp_path / "w.duckdb")
    assert (
        main(["load", "--db", path, "--source", "csv", str(write(tmp_path, "e.csv", EVENTS))]) == 0
    )
    return path


@pytest.mark.parametrize(
    ("option", "what"),
    [("--mapping", "mapping"), ("--channels", "channel rules"), ("--stages", "stage map")],
)
def test_a_yaml_file_that_is_not_utf8_is_named(tmp_path, db, capsys, option, what):
    latin1 = write(tmp_path, "x.yml", "user_id: uid\nevent_name: \xe9v\n".encode("latin-1"))
    events = str(tmp_path / "e.csv")
    args = {
        "--mapping": ["load", "--db", db, "--source", "csv", "--mapping", str(latin1), events],
        "--channels": ["load", "--db", db, "--source", "csv", "--channels", str(latin1), events],
        "--stages": ["funnel", "--db", db, "--stages", str(latin1)],
    }[option]
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"x.yml: the {what} file is not UTF-8 text (byte 0xe9 at position 25)" in err


def test_a_breakdown_of_an_empty_selection_is_an_empty_table(ws, tmp_path):
    ws.load_events(write(tmp_path, "e.csv", EVENTS))
    nothing = ws.events().where(event_name="none")
    table = jl.funnel(nothing, ["open", "buy"], by="channel").table
    assert len(table) == 0 and list(table.columns[:3]) == ["channel", "step_index", "step"]


def test_a_nul_in_a_column_name_names_the_file_and_column(tmp_path, capsys):
    bad = write(
        tmp_path,
        "nul.csv",
        "user_id,ev\x00ent,event_name,event_time\nu1,a,open,2024-01-01T10:00:00Z\n",
    )
    assert main(["load", "--db", str(tmp_path / "w.duckdb"), "--source", "csv", str(bad)]) == 2
    assert "nul.csv, field ev<NUL>ent: column 2" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["a\x00b", float("inf"), float("nan")])
def test_sql_literals_refuse_what_sql_cannot_write(value):
    with pytest.raises(jl.ParameterError, match="parameter 'value'"):
        literal(value)


def test_a_csv_line_over_the_readers_limit_says_why(tmp_path, capsys):
    big = write(
        tmp_path,
        "big.csv",
        "user_id,event_name,event_time,note\nu1,x,2024-01-01T00:00:00Z," + "a" * 2_100_000 + "\n",
    )
    assert main(["load", "--db", str(tmp_path / "w.duckdb"), "--source", "csv", str(big)]) == 2
    err = capsys.readouterr().err
    assert "big.csv" in err and "Maximum line size of" in err


@pytest.mark.parametrize("command", ["info", "load"])
def test_a_file_that_is_not_a_workspace_exits_2(tmp_path, capsys, command):
    notes = write(tmp_path, "notes.duckdb", "my notes")
    args = ["info", "--db", str(notes)]
    if command == "load":
        args = [
            "load",
            "--db",
            str(notes),
            "--source",
            "csv",
            str(write(tmp_path, "e.csv", EVENTS)),
        ]
    assert main(args) == 2
    assert "is not a DuckDB workspace file" in capsys.readouterr().err
    assert notes.read_text() == "my notes"


def test_a_reader_that_stops_early_is_not_an_error(db, monkeypatch):
    read, written = os.pipe()
    os.close(read)  # like `| head` that has read enough
    pipe = os.fdopen(written, "w", buffering=1)
    monkeypatch.setattr(sys, "stdout", pipe)
    assert main(["info", "--db", db]) == 0


def test_a_multi_file_load_says_which_files_stayed_loaded(tmp_path, capsys):
    first = write(tmp_path, "a.csv", EVENTS)
    bad = write(tmp_path, "b.csv", "user_id,event_name\nu1,open\n")
    last = write(tmp_path, "c.csv", EVENTS.replace("u1", "u2"))
    db = str(tmp_path / "w.duckdb")
    assert main(["load", "--db", db, "--source", "csv", str(first), str(bad), str(last)]) == 2
    err = capsys.readouterr().err
    assert f"Files before it stay loaded: {first} (loaded). Not read: {last}." in err
    assert "--mapping FILE" in err  # the failing file's own advice, as the CLI spells it
    assert main(["load", "--db", db, "--source", "csv", str(first), str(last)]) == 0
    assert "skipped (already loaded)" in capsys.readouterr().out


@pytest.mark.parametrize(("delimiter", "separator"), [(";", ";"), ("\\t", "\t"), ("|", "|")])
def test_a_delimiter_can_be_given(tmp_path, capsys, delimiter, separator):
    note = "".join(ch for ch in "a,b;c|d" if ch != separator)  # the other separators, as data
    text = EVENTS.replace(",", separator).replace("Z\n", f"Z{separator}{note}\n")
    text = text.replace("event_time\n", f"event_time{separator}note\n")
    path = write(tmp_path, "e.txt", text)
    db = str(tmp_path / "w.duckdb")
    assert main(["load", "--db", db, "--source", "csv", "--delimiter", delimiter, str(path)]) == 0
    with jl.open(db, read_only=True) as ws:
        assert ws.sql("select properties.note::varchar as n from events").n.tolist() == [note] * 2


def test_a_delimiter_of_two_characters_is_refused(tmp_path, capsys):
    path = write(tmp_path, "e.csv", EVENTS)
    args = [
        "load",
        "--db",
        str(tmp_path / "w.duckdb"),
        "--source",
        "csv",
        "--delimiter",
        ";;",
        str(path),
    ]
    assert main(args) == 2
    assert "parameter 'delimiter'. Give one character" in capsys.readouterr().err


def test_channel_rule_patterns_are_checked_by_the_engine_that_runs_them(tmp_path):
    # Python's re accepts a look-ahead; DuckDB's RE2 does not, and would fail the load
    rules = write(
        tmp_path, "rules.yml", "- channel: Email\n  medium: '(?=e)mail'\n- channel: Other\n"
    )
    with pytest.raises(
        jl.DataError,
        match=r"rules\.yml, row 1, field medium: bad regular expression '\(\?=e\)mail' \(DuckDB's RE2: invalid perl operator",
    ):
        load_rules(rules)


def test_a_backreference_in_paths_rename_is_refused_up_front(ws, tmp_path):
    ws.load_events(write(tmp_path, "e.csv", EVENTS))
    with pytest.raises(
        jl.ParameterError,
        match=r"parameter 'rename'. Not a regular expression DuckDB's RE2 accepts: invalid escape sequence",
    ):
        jl.paths(ws.events(), rename={r"(o)\1": "grouped"})


@pytest.mark.slow
def test_the_attribution_notebook_runs_without_spend(tmp_path):
    from pathlib import Path

    from journeylib.faces.report import run_report

    db = tmp_path / "w.duckdb"
    sample = Path(__file__).parent.parent / "data" / "sample" / "ga4"
    with jl.open(db) as ws:
        ws.load_events(sorted(sample.glob("*.ndjson.gz")), source="ga4")
    book = Path(__file__).parent.parent / "notebooks" / "attribution.ipynb"
    out = run_report(book, {"db": str(db)}, tmp_path / "report")
    assert "No ad spend in these dates" in (out / "report.html").read_text()
