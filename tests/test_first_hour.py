"""A newcomer's first hour: the demo leaves JupyterLab ready, the README's mapping is
complete, and errors speak the language of where they are read."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

import journeylib as jl
from journeylib.faces.cli import main
from journeylib.loading.sources.generic import MAPPABLE

ROOT = Path(__file__).parent.parent
# The clickstream a new analyst brought: no column has a canonical name but user_id.
CLICKS = (
    "user_id,session_id,event,timestamp,platform,acquisition_channel\n"
    "u1,s1,view,2024-01-01T10:00:00Z,ios,Email\n"
    "u1,s1,buy,2024-01-01T10:05:00Z,ios,Email\n"
    "u2,s2,view,2024-01-01T11:00:00Z,web,Paid Search\n"
)


def test_the_demo_installs_jupyterlab_and_says_how_to_open_the_workbench():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert any(r.startswith("jupyterlab") for r in extras["lab"])
    script = (ROOT / "scripts" / "demo.sh").read_text()
    assert "scripts/setup.sh lab" in script
    assert ".venv/bin/jupyter lab notebooks/quickstart.ipynb" in script
    assert ".venv/bin/jupyter lab notebooks/quickstart.ipynb" in (ROOT / "README.md").read_text()


def readme_mapping() -> dict[str, str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```yaml\n# map\.yml.*?\n(.*?)```", text, re.S)
    assert block, "README lost its mapping example"
    return yaml.safe_load(block.group(1))


def test_the_readme_mapping_names_every_key_a_mapping_can_set():
    assert sorted(readme_mapping()) == sorted(MAPPABLE)


def test_an_export_with_its_own_names_loads_and_breaks_down_by_an_unmapped_column(ws, tmp_path):
    path = tmp_path / "clicks.csv"
    path.write_text(CLICKS)
    mapping = {"event_name": "event", "event_time": "timestamp", "channel": "acquisition_channel"}
    assert ws.load_events(path, mapping=mapping).loaded == 3
    table = jl.funnel(ws.events(), ["view", "buy"], by="platform").table
    assert dict(zip(table.platform + "/" + table.step, table.users, strict=True)) == {
        "ios/view": 1,
        "ios/buy": 1,
        "web/view": 1,
        "web/buy": 0,
    }


def test_a_missing_mapping_is_told_in_the_cli_as_the_cli_spells_it(ws, tmp_path, capsys):
    path = tmp_path / "clicks.csv"
    path.write_text(CLICKS)
    with pytest.raises(jl.DataError) as raised:
        ws.load_events(path)
    assert "map one with mapping={'event_name': 'event'}" in str(raised.value)
    assert main(["load", "--db", str(tmp_path / "w.duckdb"), "--source", "csv", str(path)]) == 2
    err = capsys.readouterr().err
    assert "--mapping FILE, a YAML file with the line 'event_name: event'" in err
    assert "mapping={" not in err
    assert "among the file's columns (user_id, session_id, event, timestamp" in err


def test_an_unknown_breakdown_lists_the_properties_keys_and_the_closest(ws, tmp_path):
    path = tmp_path / "clicks.csv"
    path.write_text(CLICKS)
    ws.load_events(path, mapping={"event_name": "event", "event_time": "timestamp"})
    with pytest.raises(jl.ParameterError) as raised:
        jl.funnel(ws.events(), ["view", "buy"], by="platfrom")
    assert "acquisition_channel" in raised.value.allowed and "platform" in raised.value.allowed
    assert "Did you mean 'platform'?" in str(raised.value)
