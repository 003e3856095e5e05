"""The store's layout (issue #29 step 3, ADR 0036): every event carries the integer key of
its person and the code of its name, from dictionaries that agree with the text columns
through loads, identity stitching and unloads; a value keeps its key for good; each load
stores its rows by person and time; an upgraded version-1 workspace is keyed the same way.
"""

from __future__ import annotations

import csv
import gzip
import random
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import journeylib as jl
from journeylib.core.engine import Engine
from journeylib.loading.upgrade import UpgradeNotice

ROOT = Path(__file__).resolve().parents[1]


def dictionary(engine: Engine, table: str) -> dict[str, int]:
    key, value = {"people": ("person_key", "user_id"), "event_codes": ("event_code", "event_name")}[
        table
    ]
    return {str(v): int(k) for k, v in engine.rows(f"select {key}, {value} from {table}")}


def assert_keyed(engine: Engine) -> None:
    """Keys agree with the text columns, and each dictionary is one to one."""
    for table, key, value in (
        ("people", "person_key", "user_id"),
        ("event_codes", "event_code", "event_name"),
    ):
        entries = engine.rows(f"select {key}, {value} from {table}")
        assert len({k for k, _ in entries}) == len({v for _, v in entries}) == len(entries)
        assert all(k is not None and v is not None for k, v in entries)
        mapping = {v: k for k, v in entries}
        stored = engine.rows(f"select {value}, {key} from events")
        assert all(mapping.get(v) == k for v, k in stored), table
    names = {n for (n,) in engine.rows("select distinct event_name from events")}
    assert set(dictionary(engine, "event_codes")) == names  # no code for a name no event has


def write(path: Path, rows: list[tuple[str, str, str, int]], rng: random.Random) -> Path:
    """A CSV export of (user id or '', anonymous id, name, minute) rows, in a shuffled order."""
    rows = list(rows)
    rng.shuffle(rows)
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["user_id", "anonymous_id", "event_name", "event_time"])
        for user, anonymous, name, minute in rows:
            writer.writerow(
                [user, anonymous, name, f"2024-03-01T{9 + minute // 60}:{minute % 60:02d}:00Z"]
            )
    return path


row_strategy = st.tuples(
    st.sampled_from(["", "", "u1", "u2"]),
    st.sampled_from(["a1", "a2", "a3"]),
    st.sampled_from(["view", "cart", "buy", "Ünïcode name", "o'quote"]),
    st.integers(0, 300),
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    files=st.lists(st.lists(row_strategy, min_size=1, max_size=15), min_size=2, max_size=4),
    steps=st.lists(st.tuples(st.booleans(), st.integers(0, 3)), min_size=3, max_size=8),
    seed=st.integers(0, 1000),
)
def test_keys_agree_with_the_text_and_never_change_through_loads_stitching_and_unloads(
    tmp_path_factory: pytest.TempPathFactory,
    files: list[list[tuple[str, str, str, int]]],
    steps: list[tuple[bool, int]],
    seed: int,
) -> None:
    rng = random.Random(seed)
    folder = tmp_path_factory.mktemp("exports")
    paths = [write(folder / f"f{i}.csv", rows, rng) for i, rows in enumerate(files)]
    ws = jl.open(folder / "w.duckdb")
    seen: dict[str, dict[str, int]] = {"people": {}, "event_codes": {}}
    loaded: set[Path] = set()
    for load, k in steps:
        path = paths[k % len(paths)]
        if load:
            ws.load_events(path)
            loaded.add(path)
        elif path in loaded:
            ws.unload(path)
            loaded.discard(path)
        assert_keyed(ws.engine)
        people = dictionary(ws.engine, "people")
        assert (
            people.items() >= seen["people"].items()
        )  # person keys are never dropped or renumbered
        codes = dictionary(ws.engine, "event_codes")
        assert all(codes[n] == c for n, c in seen["event_codes"].items() if n in codes)
        seen = {"people": people, "event_codes": codes}
    ws.close()


def test_a_load_stores_its_rows_by_person_and_time(tmp_path: Path) -> None:
    rng = random.Random(7)
    rows = [(f"u{rng.randint(0, 30)}", "", rng.choice(["view", "buy"]), m) for m in range(200)]
    path = write(tmp_path / "e.csv", rows, rng)
    ws = jl.open()
    ws.load_events(path)
    ws.load_events(
        write(tmp_path / "later.csv", [("u99", "", "view", 5), ("u0", "", "zoom", 1)], rng)
    )
    stored = ws.sql("select person_key, event_time, origin from events order by rowid")
    first = stored[stored.origin == str(path)]
    assert len(first) == 200
    assert first[["person_key", "event_time"]].apply(tuple, axis=1).is_monotonic_increasing
    # people and names are numbered in sorted order within a load, after the keys before them
    people = dictionary(ws.engine, "people")
    assert people["u99"] == len(people) and people["u0"] < people["u1"] < people["u10"]
    assert dictionary(ws.engine, "event_codes") == {"buy": 1, "view": 2, "zoom": 3}
    ws.close()


def test_companion_events_of_deals_and_feedback_are_keyed(tmp_path: Path) -> None:
    ws = jl.open()
    ws.load_deals(ROOT / "tests" / "golden" / "crm" / "deals.csv")
    ws.load_feedback(ROOT / "tests" / "golden" / "feedback" / "nps.csv", kind="nps")
    assert ws.info()["events"] > 0
    assert_keyed(ws.engine)
    ws.close()


def test_an_upgraded_version_1_workspace_is_keyed_and_stored_by_person(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with (
        gzip.open(ROOT / "tests" / "fixtures" / "workspace_v1.duckdb.gz") as packed,
        path.open("wb") as out,
    ):
        shutil.copyfileobj(packed, out)
    with pytest.warns(UpgradeNotice):
        ws = jl.open(path)
    assert_keyed(ws.engine)
    stored = ws.sql("select person_key, event_time from events order by rowid")
    assert len(stored) == 28 and stored.apply(tuple, axis=1).is_monotonic_increasing
    assert len(dictionary(ws.engine, "people")) == ws.info()["users"]
    ws.close()


def test_stitched_events_take_their_persons_key_and_return_to_the_anonymous_key_on_unload(
    tmp_path: Path,
) -> None:
    rng = random.Random(1)
    anonymous = write(tmp_path / "anon.csv", [("", "a1", "view", 1), ("", "a1", "cart", 2)], rng)
    identified = write(tmp_path / "login.csv", [("u1", "a1", "buy", 3)], rng)
    ws = jl.open()
    ws.load_events(anonymous)
    ws.load_events(identified)
    people = dictionary(ws.engine, "people")
    keys = ws.sql("select distinct person_key from events").person_key.tolist()
    assert keys == [people["u1"]] and people["a1"] != people["u1"]
    ws.unload(identified)
    assert_keyed(ws.engine)
    assert ws.sql("select distinct person_key from events").person_key.tolist() == [people["a1"]]
    ws.close()
