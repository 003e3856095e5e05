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


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_on_the_sample(notebook, tmp_path):
    out = run_report(notebook, {"within": "7d"}, tmp_path / "out")
    manifest = json.loads((out / "manifest.json").read_text())
    funnel = next(t for t in manifest["tables"] if t["name"] == "Funnel")
    table = pd.read_csv(out / funnel["file"])
    # 3,000 people start a session; 1,434 of them buy (data/README.md)
    assert table.users.tolist()[0] == 3000
    assert table.users.tolist()[-1] == 1434
