"""Every notebook runs end to end through papermill on the sample data, and is committed clean."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from journeylib.report import notebook_parameters, run_report

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs_and_declares_typed_parameters(notebook):
    book = nbformat.read(notebook, as_version=4)
    code = [c for c in book.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert "parameters" in code[0].metadata.get("tags", [])
    declared = notebook_parameters(notebook)
    assert declared and all(p.type != "None" and p.help for p in declared.values())
    assert not any(
        line.startswith(("def ", "class ")) for c in code for line in c.source.splitlines()
    )


def tables(out: Path) -> dict[str, pd.DataFrame]:
    """The result tables a report wrote, by file stem (``funnel``, ``attribution_2``...)."""
    manifest = json.loads((out / "manifest.json").read_text())
    return {Path(t["file"]).stem: pd.read_csv(out / t["file"]) for t in manifest["tables"]}


def check_funnel(found: dict[str, pd.DataFrame]) -> None:
    # 3,000 people start a session; 1,434 of them buy (data/README.md)
    users = found["funnel"].users.tolist()
    assert users[0] == 3000
    assert users[-1] == 1434


def check_attribution(found: dict[str, pd.DataFrame]) -> None:
    # every model hands out each of the 2,517 purchases in the sample exactly once
    credit = found["attribution"]
    assert credit.groupby("model").conversions.sum().round(6).unique().tolist() == [2517.0]
    assert (credit.conversions >= 0).all()


CHECKS = {
    "quickstart": [check_funnel],
    "journey_report": [check_funnel, check_attribution],
    "attribution": [check_attribution],
}


def test_every_notebook_has_checks():
    assert sorted(CHECKS) == sorted(p.stem for p in NOTEBOOKS)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_on_the_sample(notebook, tmp_path):
    out = run_report(notebook, {}, tmp_path / "out")
    found = tables(out)
    for check in CHECKS[notebook.stem]:
        check(found)
