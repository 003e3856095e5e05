"""The house's rules, checked: folders are layers, analyses stay apart, no module is shadowed.

The layer contracts live in pyproject.toml (``[tool.importlinter]``, ADR 0027
and ADR 0028) and are run here with import-linter, on this tree and on a copy
of it with one forbidden import added, which they must catch.
"""

from __future__ import annotations

import ast
import importlib
import os
import pkgutil
import shutil
import subprocess
import sys
import types
from collections.abc import Callable
from pathlib import Path

import pytest

import journeylib as jl

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    """import-linter's contracts from ``tree``'s pyproject.toml, over ``tree``'s journeylib."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT), "--no-cache"], cwd=tree, env=env, capture_output=True, text=True, check=False
    )


def test_the_layer_contracts_are_kept() -> None:
    run = lint(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 kept, 0 broken" in run.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        # an analysis importing another
        (
            "analyses/paths.py",
            "from journeylib.analyses.funnels import funnel",
            "An analysis never imports another analysis",
        ),
        # a building block importing an analysis (a layer below importing one above)
        ("model/levels.py", "import journeylib.analyses.retention", "Folders are layers"),
        # an analysis importing a face
        ("analyses/retention.py", "import journeylib.faces.cli", "Folders are layers"),
        # loading and the analyses are independent siblings
        ("loading/workspace.py", "import journeylib.analyses.paths", "Folders are layers"),
    ],
)
def test_the_contracts_catch_a_forbidden_import(
    tmp_path: Path, module: str, line: str, broken: str
) -> None:
    shutil.copytree(ROOT / "journeylib", tmp_path / "journeylib")
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    target = tmp_path / "journeylib" / module
    target.write_text(target.read_text() + f"\n{line}\n")
    run = lint(tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    verdicts = [row for row in run.stdout.splitlines() if row.startswith(broken)]
    assert verdicts and verdicts[0].endswith("BROKEN"), run.stdout
    assert line.split()[-1].split(".")[-1] in run.stdout  # the import is named


def modules() -> list[str]:
    return sorted(
        info.name for info in pkgutil.walk_packages(jl.__path__, "journeylib.") if info.name
    )


@pytest.mark.parametrize("name", modules())
def test_no_name_shadows_a_module(name: str) -> None:
    """``journeylib.analyses.retention`` is the module, also once ``jl.retention`` (the
    function) is imported: no package binds a submodule's name to anything else."""
    module = importlib.import_module(name)
    parent_name, _, leaf = name.rpartition(".")
    parent = importlib.import_module(parent_name)
    assert getattr(parent, leaf) is module, f"{parent_name}.{leaf} is not the module {name}"


def test_every_public_name_of_the_flat_layout_still_works() -> None:
    """The names ``jl`` exported before the folders moved (issue #27), each still there."""
    functions = [
        "attribution",
        "compare_funnels",
        "compare_segments",
        "connect",
        "data_quality",
        "drivers",
        "drop_off",
        "funnel",
        "journey_map",
        "next_steps",
        "open",
        "paths",
        "personas",
        "predict_next",
        "previous_steps",
        "read_events",
        "retention",
        "stage_of",
        "step_matrix",
        "time_to_convert",
        "transitions",
        "trended_funnel",
        "explore",
        "funnel_widget",
        "paths_widget",
        "retention_widget",
        "attribution_widget",
        "journey_map_widget",
    ]
    classes = [
        "Connection",
        "DataError",
        "EngineError",
        "Events",
        "JourneyError",
        "LoadReport",
        "ParameterError",
        "Result",
        "Stages",
        "Workspace",
        "WorkspaceError",
    ]
    for name in functions:
        assert callable(getattr(jl, name)), name
        assert not isinstance(getattr(jl, name), types.ModuleType), name
    for name in classes:
        assert isinstance(getattr(jl, name), type), name
    assert isinstance(jl.stages, types.ModuleType) and jl.stages.FIVE_STAGE is not None
    assert isinstance(jl.datasets, types.ModuleType) and callable(jl.datasets.sample_or)
    assert set(jl.__all__) >= {*functions, *classes}


def quoting_calls(source: str) -> list[int]:
    """Lines of ``source`` that quote SQL by hand: ``.replace("'", "''")`` or ``.replace('"', '""')``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "replace"
            and [getattr(a, "value", None) for a in node.args] in (["'", "''"], ['"', '""'])
        ):
            found.append(node.lineno)
    return found


def package_lines(find: Callable[[str], list[int]]) -> dict[str, list[int]]:
    """The package's modules where ``find`` reports lines, with those lines."""
    return {
        str(path.relative_to(ROOT)): lines
        for path in (ROOT / "journeylib").rglob("*.py")
        if (lines := find(path.read_text()))
    }


def test_only_the_sql_module_quotes() -> None:
    assert quoting_calls("name = '\"' + x.replace('\"', '\"\"') + '\"'") == [1]  # the check bites
    assert set(package_lines(quoting_calls)) == {"journeylib/core/sql.py"}


def environment_reads(source: str) -> list[int]:
    """Lines of ``source`` that read the process environment (settings are jl.options)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"):
            found.append(node.lineno)
    return found


def test_no_module_reads_settings_from_the_environment() -> None:
    """ADR 0033: what changes how journeylib runs is in jl.options, set explicitly."""
    assert environment_reads("import os\nsize = os.environ.get('X')") == [2]  # the check bites
    assert package_lines(environment_reads) == {}


def test_import_journeylib_loads_no_altair_ipywidgets_or_scipy() -> None:
    """The CLI and scheduled runs pay for ``import journeylib``: the heavy libraries wait."""
    code = (
        "import sys, journeylib as jl; jl.funnel; jl.attribution; jl.compare_segments\n"
        "print(sorted(m for m in ('altair', 'ipywidgets', 'scipy') if m in sys.modules))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert run.stdout.strip() == "[]"
