"""Content ids do not depend on key order (issue #29 step 2): random exports of a set of
distinct events, each file writing its columns, properties and GA4 parameters in its own
order (numbers as 2 or 2.0), with duplicates and overlaps, loaded twice and in pieces,
leave exactly one row per distinct event.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import journeylib as jl

BASE_SECONDS = 1_709_283_600  # 2024-03-01T09:00:00Z
KEYS = ["color", "size", "page", "ref"]

#: a distinct event: (person, minute, name, flat string properties, a nested object, a number)
Event = tuple[str, int, str, dict[str, str], dict[str, str], int]

events_strategy = st.lists(
    st.tuples(
        st.sampled_from(["u1", "u2", "u3"]),
        st.integers(0, 5),
        st.sampled_from(["view", "cart", "buy"]),
        st.fixed_dictionaries({k: st.sampled_from(["a", "b", "1.0,", 'q"x']) for k in KEYS}),
        st.fixed_dictionaries({"os": st.sampled_from(["ios", "android"]), "v": st.just("2")}),
        st.integers(0, 3),
    ),
    min_size=1,
    max_size=12,
    unique_by=lambda e: (e[0], e[1], e[2], tuple(e[3].values()), e[4]["os"], e[5]),
)


def shuffled(items: list, rng: random.Random) -> list:
    items = list(items)
    rng.shuffle(items)
    return items


def write_csv(path: Path, rows: list[Event], rng: random.Random) -> None:
    columns = shuffled(["user_id", "event_name", "event_time", *KEYS], rng)
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=columns)
        writer.writeheader()
        for user, minute, name, props, _nested, _number in rows:
            time = f"2024-03-01T09:{minute:02d}:00Z"
            writer.writerow({"user_id": user, "event_name": name, "event_time": time, **props})


def write_mixpanel(path: Path, rows: list[Event], rng: random.Random) -> None:
    """Mixpanel lines without ``$insert_id``: the id is derived from the content."""
    with path.open("w") as out:
        for user, minute, name, props, nested, number in rows:
            fields = {
                "distinct_id": user,
                "time": BASE_SECONDS + 60 * minute,
                **props,
                "device": dict(shuffled(list(nested.items()), rng)),
                "items": float(number) if rng.random() < 0.5 else number,
            }
            properties = dict(shuffled(list(fields.items()), rng))
            out.write(json.dumps({"event": name, "properties": properties}) + "\n")


def write_ga4(path: Path, rows: list[Event], rng: random.Random) -> None:
    """GA4 rows whose ``event_params`` (and top-level fields) come in a random order."""
    with path.open("w") as out:
        for user, minute, name, props, nested, number in rows:
            params = [{"key": k, "value": {"string_value": v}} for k, v in props.items()]
            params.append({"key": "items", "value": {"int_value": str(number)}})
            row = {
                "event_timestamp": str((BASE_SECONDS + 60 * minute) * 1_000_000),
                "event_name": name,
                "user_pseudo_id": user,
                "event_params": shuffled(params, rng),
                "device": dict(shuffled(list(nested.items()), rng)),
            }
            out.write(json.dumps(dict(shuffled(list(row.items()), rng))) + "\n")


WRITERS = {
    "csv": (write_csv, ".csv"),
    "mixpanel": (write_mixpanel, ".ndjson"),
    "ga4": (write_ga4, ".ndjson"),
}


@pytest.mark.parametrize("source", sorted(WRITERS))
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=events_strategy, seed=st.integers(0, 10**6))
def test_re_exports_in_any_key_order_load_each_event_once(
    tmp_path_factory: pytest.TempPathFactory, source: str, events: list[Event], seed: int
) -> None:
    rng = random.Random(seed)
    write, suffix = WRITERS[source]
    folder = tmp_path_factory.mktemp(source)
    files = []
    for k in range(3):  # three exports: each a random overlapping part, some rows twice
        part = [e for e in events if rng.random() < 0.7] or events[:1]
        part += rng.sample(part, k=min(2, len(part)))
        files.append(folder / f"export{k}{suffix}")
        write(files[-1], shuffled(part, rng), rng)
    files.append(folder / f"everything{suffix}")
    write(files[-1], shuffled(events, rng), rng)

    ws = jl.open()
    for path in files[:2]:  # in pieces
        ws.load_events(path, source=source)
    ws.load_events(files[2:], source=source)
    assert ws.info()["events"] == len(events)
    again = ws.load_events(files, source=source)  # twice: nothing new
    assert again.loaded == 0 and ws.info()["events"] == len(events)
    ws.close()
