"""Workspace schema versions (issue #29 steps 1-3): a version-1 workspace made by journeylib
before versions existed (tests/fixtures/README.md) is upgraded on open, after a backup, in
one transaction; it then answers every registered analysis exactly as a fresh load of the
same files, event ids included (version 3 derives them from canonical content; version 4
keys and re-orders the stored events; version 5 stores properties as a VARIANT).
"""

from __future__ import annotations

import gzip
import json
import shutil
import warnings
from pathlib import Path

import pandas as pd
import pytest
from analysis_calls import one_call_each

import journeylib as jl
from journeylib.core.engine import Engine
from journeylib.core.schema import EVENT_LAYOUT_COLUMNS
from journeylib.display.registry import ANALYSES
from journeylib.faces.cli import main
from journeylib.loading import upgrade as upgrade_module
from journeylib.loading.upgrade import CURRENT, Migration, UpgradeNotice, stored_version

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "workspace_v1.duckdb.gz"
GOLDEN = Path("tests/golden")  # relative, as the fixture's loads named their files


@pytest.fixture
def v1(tmp_path: Path) -> Path:
    """A fresh copy of the version-1 workspace."""
    path = tmp_path / "w.duckdb"
    with gzip.open(FIXTURE) as packed, path.open("wb") as out:
        shutil.copyfileobj(packed, out)
    return path


#: the tables of a version-1 workspace
TABLES = (
    "events",
    "spend",
    "customers",
    "feedback",
    "rejected",
    "loads",
    "identities",
    "identity_origins",
)


def contents(path: Path) -> dict[str, pd.DataFrame]:
    """Every table of a version-1 workspace in the file, rows in a stable order.

    Event properties come back parsed, whether stored as JSON text (version 1) or as a
    VARIANT (version 5 on).
    """
    engine = Engine.connect(path, read_only=True)
    try:
        tables = {name: engine.frame(f'select * from "{name}" order by all') for name in TABLES}
    finally:
        engine.close()
    events = tables["events"]
    events["properties"] = [p if isinstance(p, dict) else json.loads(p) for p in events.properties]
    return tables


def load_as_the_fixture_did(ws: jl.Workspace) -> list[str]:
    """The fixture's seven loads (tests/fixtures/README.md); returns each file's status."""
    reports = [
        ws.load_events(GOLDEN / "ga4" / "events_20240301.ndjson", source="ga4"),
        ws.load_events(GOLDEN / "segment" / "app_events.jsonl", source="segment"),
        ws.load_deals(GOLDEN / "crm" / "deals.csv"),
        ws.load_feedback(GOLDEN / "feedback" / "nps.csv", kind="nps"),
        ws.load_feedback(GOLDEN / "feedback" / "tickets.csv", kind="ticket"),
        ws.load_spend(GOLDEN / "spend" / "google_ads.csv"),
        ws.load_events(Path("tests/fixtures/with_rejects.csv")),
    ]
    return [file.status for report in reports for file in report.files]


def test_the_fixture_is_a_version_1_workspace(v1: Path) -> None:
    tables = contents(v1)
    assert {name: len(t) for name, t in tables.items()} == {
        "events": 28,
        "spend": 7,
        "customers": 3,
        "feedback": 5,
        "rejected": 13,
        "loads": 7,
        "identities": 2,
        "identity_origins": 2,
    }
    engine = Engine.connect(v1, read_only=True)
    assert stored_version(engine) == 1
    engine.close()


def test_opening_it_upgrades_it_after_a_backup_and_keeps_every_row(v1: Path) -> None:
    before, raw = contents(v1), v1.read_bytes()
    with pytest.warns(UpgradeNotice, match=r"Upgraded .*w.duckdb from schema version 1 to 5"):
        ws = jl.open(v1)
    assert ws.upgraded is not None and ws.upgraded.backup == v1.with_name("w.duckdb.schema-v1.bak")
    assert ws.upgraded.backup.read_bytes() == raw  # the version-1 file, byte for byte
    assert ws.info()["schema_version"] == CURRENT == 5
    history = ws.sql("select version, how from schema_versions order by version").values.tolist()
    assert history == [[k, f"upgraded from {k - 1}"] for k in (2, 3, 4, 5)]
    assert ws.sql("select distinct typeof(properties) as t from events").t.tolist() == ["VARIANT"]
    ws.close()
    after = contents(v1)
    for name in TABLES:
        if name != "events":
            pd.testing.assert_frame_equal(after[name], before[name], obj=name)
    # every event kept; ids derived from content are derived again: GA4's change (its
    # properties are nested, keys unsorted), the CSV's not (color, size: canonical already);
    # Segment's message ids and CRM/feedback ids stay
    old = before["events"].set_index(["origin", "event_time", "event_name", "user_id"])
    new = after["events"].drop(columns=list(EVENT_LAYOUT_COLUMNS))
    new = new.set_index(old.index.names).loc[old.index]
    pd.testing.assert_frame_equal(
        new.drop(columns="event_id"), old.drop(columns="event_id"), check_like=True
    )
    changed = old.event_id != new.event_id
    origins = set(old[changed].index.get_level_values("origin"))
    assert {Path(o).suffix for o in origins} == {".ndjson"}
    assert not changed[old.index.get_level_values("origin").str.endswith(".jsonl")].any()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # opening it again upgrades nothing
        ws = jl.open(v1)
    assert ws.upgraded is None
    ws.close()


STEPS = ["session_start", "view_item", "purchase"]
STAGES = jl.Stages(
    {"aware": ["page_view", "session_start"], "consider": ["view_item"], "buy": ["purchase"]}
)
#: one call of every registered analysis over the fixture's events
CALLS = one_call_each(
    STEPS,
    STAGES,
    segments=lambda ev: {
        "web": ev.where(event_name=["page_view", "session_start", "view_item", "purchase"]),
        "all": ev,
    },
    models=["last_touch", "linear", "markov"],
)


def test_the_upgraded_workspace_answers_as_a_fresh_load_and_reloads_nothing(
    v1: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    with pytest.warns(UpgradeNotice):
        upgraded = jl.open(v1)
    fresh = jl.open(tmp_path / "fresh.duckdb")
    assert set(load_as_the_fixture_did(fresh)) == {"loaded"}
    assert set(load_as_the_fixture_did(upgraded)) == {"skipped (already loaded)"}  # no-ops
    columns = "event_id, user_id, event_time, event_name, session_id, channel, properties"
    query = f"select {columns} from events order by event_id"
    pd.testing.assert_frame_equal(upgraded.sql(query), fresh.sql(query))
    assert set(CALLS) == set(ANALYSES)  # a new analysis joins the comparison
    for name, call in CALLS.items():
        table = call(upgraded.events()).table
        pd.testing.assert_frame_equal(table, call(fresh.events()).table, obj=name)
        # drivers needs more people than the fixture's ten to find any
        assert len(table) > 0 or name == "drivers", name
    upgraded.close()
    fresh.close()


def test_a_read_only_open_is_refused_with_the_command_that_upgrades(v1: Path) -> None:
    raw = v1.read_bytes()
    with pytest.raises(jl.WorkspaceError, match=r"schema version 1; .*journeylib upgrade --db"):
        jl.open(v1, read_only=True)
    assert v1.read_bytes() == raw
    assert not list(v1.parent.glob("*.bak"))


def test_a_failing_upgrade_leaves_the_workspace_as_it_was(
    v1: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = contents(v1)

    def broken(engine: Engine) -> None:
        engine.execute("create table half_done (x int)")
        engine.execute("delete from events")
        raise RuntimeError("disk full")

    monkeypatch.setattr(upgrade_module, "MIGRATIONS", (Migration(2, "break", broken),))
    with pytest.raises(jl.WorkspaceError, match=r"failed, and the workspace is as it was") as err:
        jl.open(v1)
    assert "disk full" in str(err.value) and "w.duckdb.schema-v1.bak" in str(err.value)
    engine = Engine.connect(v1, read_only=True)
    assert stored_version(engine) == 1
    assert engine.scalar("select count(*) from duckdb_tables() where table_name = 'half_done'") == 0
    engine.close()
    after = contents(v1)
    for name in TABLES:
        pd.testing.assert_frame_equal(after[name], before[name], obj=name)


def test_a_workspace_from_a_newer_journeylib_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "n.duckdb"
    with jl.open(path) as ws:
        assert ws.sql("select version, how from schema_versions").values.tolist() == [
            [CURRENT, "created"]
        ]
        with ws.engine.writing():
            ws.engine.execute(
                "insert into schema_versions values (?, now(), '9.0', 'future')", [CURRENT + 1]
            )
    with pytest.raises(
        jl.WorkspaceError, match=rf"schema version {CURRENT + 1}, from a newer journeylib"
    ):
        jl.open(path)


def test_the_cli_shows_the_version_and_upgrades_after_a_dry_run(
    v1: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = v1.read_bytes()
    assert main(["upgrade", "--db", str(v1), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Would upgrade {v1} from schema version 1 to 5:")
    assert "Nothing was changed" in out
    assert v1.read_bytes() == raw and not list(v1.parent.glob("*.bak"))
    assert main(["info", "--db", str(v1)]) == 2
    assert f"journeylib upgrade --db {v1}" in capsys.readouterr().err
    assert main(["upgrade", "--db", str(v1)]) == 0
    assert f"The version-1 file is kept at {v1}.schema-v1.bak" in capsys.readouterr().out
    assert main(["info", "--db", str(v1), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["schema_version"] == 5
    assert main(["info", "--db", str(v1)]) == 0
    assert "schema_version  5" in capsys.readouterr().out
    assert main(["upgrade", "--db", str(v1)]) == 0
    assert "at schema version 5: nothing to do" in capsys.readouterr().out
