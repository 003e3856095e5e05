"""Every notebook runs end to end through papermill on the sample data, and is committed clean."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from journeylib import datasets
from journeylib.faces.report import notebook_parameters, run_report

pytestmark = pytest.mark.slow  # each runs notebooks through papermill

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
    """The result tables a report wrote, by file stem: the analysis slug (``funnel``, ``retention_2``...)."""
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


def stories() -> dict:
    return json.loads((datasets.sample_dir() / "stories.json").read_text())


def check_quality(found: dict[str, pd.DataFrame]) -> None:
    # 38,815 GA4 events (stories.json) plus the Segment, CRM, survey and ticket events;
    # 3,000 people, nothing rejected
    checks = dict(zip(found["data_quality"].check, found["data_quality"].value, strict=False))
    assert checks["users"] == stories()["people"]
    assert checks["events"] >= stories()["events"]


def check_stages(found: dict[str, pd.DataFrame]) -> None:
    # the stages up to the purchase are reached within a week of awareness by everyone
    # who reaches them at all (data/README.md); the post-purchase stage needs longer
    reach = stories()["6_stages"]
    assert found["funnel"].users.tolist()[:4] == [
        reach[s] for s in ("awareness", "consideration", "decision", "purchase")
    ]
    people = found["stage_of"]
    assert len(people) == reach["awareness"]
    assert (people.stage == "post_purchase").sum() == reach["post_purchase"]


def check_paths(found: dict[str, pd.DataFrame]) -> None:
    # everyone who views an item (the consideration stage) is at the anchor
    steps = found["next_steps"]
    anchor = stories()["6_stages"]["consideration"]
    assert steps.users.iloc[0] == anchor
    # a report hides cells of 1-4 people (min_cell_size 5): the shown cells of step 1
    # and the suppressed ones, each 1 to 4 people, add up to everyone at the anchor
    first = steps[steps.step == 1]
    shown, hidden = first.users.sum(), int(first.suppressed.sum())
    assert shown + hidden <= anchor <= shown + 4 * hidden
    assert not ((steps.users < 5) & ~steps.suppressed).any()


def check_retention(found: dict[str, pd.DataFrame]) -> None:
    # every buyer starts a cohort; repeat buyers come back after their first purchase week
    table = found["retention"]
    overall = table[table.cohort == "overall"].set_index("period")
    assert overall.users[0] == stories()["buyers"]
    assert overall.users[1] <= stories()["3_repeat_via_email"]["repeat_buyers"]


def check_journey_map(found: dict[str, pd.DataFrame]) -> None:
    table = found["journey_map"]
    totals = table[table.kind == "all"]
    assert dict(zip(totals.stage, totals.people, strict=True)) == stories()["6_stages"]


def check_segments(found: dict[str, pd.DataFrame]) -> None:
    # story 1: mobile checkouts lose people, so fewer mobile people reach payment, significantly
    table = found["compare_segments"]
    payment = table[(table.analysis == "funnel") & (table.item == "add_payment_info")]
    payment = payment.set_index("segment")
    assert payment.significant["mobile"]
    assert payment.rate["mobile"] < payment.rate["desktop"]
    # every person who entered the journey is in exactly one persona
    assert found["personas"].people.sum() == stories()["6_stages"]["awareness"]


def check_rules(found: dict[str, pd.DataFrame]) -> None:
    # story 3 through an n-th occurrence rule: 1,434 buyers, 830 buy a second time
    # the notebook's fifth funnel (its files are keyed by slug and order, not by title)
    repeat = stories()["3_repeat_via_email"]["repeat_buyers"]
    assert found["funnel_5"].users.tolist() == [stories()["buyers"], repeat]


CHECKS = {
    "quickstart": [check_funnel],
    "journey_report": [check_funnel, check_attribution, check_journey_map],
    "attribution": [check_attribution],
    "load_and_quality": [check_quality],
    "stages_and_funnels": [check_stages, check_rules],
    "segments_and_personas": [check_segments],
    "paths": [check_paths],
    "retention": [check_retention],
    "journey_map": [check_journey_map],
}


def test_every_notebook_has_checks():
    assert sorted(CHECKS) == sorted(p.stem for p in NOTEBOOKS)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_on_the_sample(notebook, tmp_path):
    out = run_report(notebook, {}, tmp_path / "out")
    found = tables(out)
    for check in CHECKS[notebook.stem]:
        check(found)
