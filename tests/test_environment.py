"""environment.yml lists the same runtime dependencies, with the same bounds, as pyproject.toml."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).parent.parent
#: conda-forge names that differ from the PyPI names
CONDA_TO_PYPI = {"python-duckdb": "duckdb"}


def split(requirement: str) -> tuple[str, str]:
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+(?:\[[^\]]+\])?)\s*(.*)$", requirement)
    assert match, requirement
    return match.group(1).lower(), match.group(2).replace(" ", "")


def test_environment_matches_pyproject_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    wanted = dict(split(r) for r in project["dependencies"])
    environment = yaml.safe_load((ROOT / "environment.yml").read_text("utf-8"))
    listed: dict[str, str] = {}
    for item in environment["dependencies"]:
        if isinstance(item, dict):
            listed.update(split(r) for r in item["pip"] if not r.startswith("-e"))
        elif not item.startswith(("python>", "python=", "pip")) or item.startswith("python-"):
            name, spec = split(item)
            listed[CONDA_TO_PYPI.get(name, name)] = spec
    assert listed == wanted
