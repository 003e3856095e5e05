"""`journeylib attribution`: stable CSV columns, exit codes.

Skipped until the command is wired into journeylib/faces/cli.py.
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pandas as pd
import pytest

from journeylib.faces.cli import _parser, main

GOLDEN = Path(__file__).parents[1] / "golden" / "attribution"

try:
    with redirect_stderr(io.StringIO()):
        _parser().parse_args(["attribution", "--paths", "x.csv"])
except SystemExit:
    pytest.skip("journeylib attribution is not wired into the CLI yet", allow_module_level=True)


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_paths_file_gives_the_stable_columns(tmp_path: Path) -> None:
    paths = tmp_path / "paths.csv"
    paths.write_text(
        "path,conversions,nulls,value\nEmail > Paid Search,2,1,100\nPaid Search,1,3,30\n"
    )
    code, out, _ = run("attribution", "--paths", str(paths), "--models", "linear,markov")
    assert code == 0
    table = pd.read_csv(io.StringIO(out))
    assert list(table.columns) == ["channel", "model", "conversions", "revenue"]
    # markov: everyone reaches Paid Search (converts 3/7); without Email 3 of 7 journeys are lost:
    # RE_Email = 3/7, RE_Paid Search = 1 -> shares 0.3 / 0.7 of 3 conversions and 130 revenue
    markov = table[table.model == "markov"].set_index("channel")
    assert markov.conversions.to_dict() == pytest.approx({"Email": 0.9, "Paid Search": 2.1})
    assert markov.revenue.to_dict() == pytest.approx({"Email": 39.0, "Paid Search": 91.0})


def test_events_file_json() -> None:
    code, out, _ = run(
        "attribution",
        "--events",
        str(GOLDEN / "events.csv"),
        "--lookback",
        "7d",
        "--models",
        "first_touch",
        "--format",
        "json",
    )
    assert code == 0
    rows = {r["channel"]: r["conversions"] for r in json.loads(out) if r["conversions"]}
    assert rows == {"(direct)": 2.0, "Email": 2.0, "Paid Social": 1.0}


def test_bad_input_exits_2_with_a_message(tmp_path: Path) -> None:
    code, _, err = run("attribution", "--paths", str(tmp_path / "missing.csv"))
    assert code == 2 and "file not found" in err
    paths = tmp_path / "paths.csv"
    paths.write_text("path,conversions\na,1\n")
    code, _, err = run("attribution", "--paths", str(paths), "--models", "shaply")
    assert code == 2 and "Did you mean 'shapley'" in err
