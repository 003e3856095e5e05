"""The journey map and stage_of against a plain-Python oracle, the sample's stories, and funnels."""

from __future__ import annotations

import json
import random
import statistics

import pandas as pd
import pytest
from oracles import events as canonical

import journeylib as jl
from journeylib import datasets
from journeylib.journey_map import journey_map, stage_of

BASE = pd.Timestamp("2024-01-01T00:00:00Z")
STAGES = jl.Stages({"s1": ["a"], "s2": ["b", "c"], "s3": ["d"]})
NAMES = ["a", "b", "c", "d", "x", "y"]


def random_log(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Events full of traps (ties, repeats, stages out of order, sessions without a channel)."""
    rng = random.Random(seed)
    rows = []
    for i in range(400):
        user = f"u{rng.randrange(30)}"
        session = f"{user}-s{rng.randrange(4)}"
        name = rng.choice(NAMES)
        rows.append(
            {
                "event_id": f"e{i}",
                "user_id": user,
                "event_time": BASE + pd.Timedelta(minutes=rng.randrange(300)),
                "event_name": name,
                "session_id": session,
                "channel": rng.choice(["Email", "Paid Search", None, None]),
                "revenue": float(rng.randrange(1, 100)) if name == "d" else None,
            }
        )
    feedback = [
        {
            "user_id": f"u{rng.randrange(30)}",
            "event_time": BASE + pd.Timedelta(minutes=rng.randrange(300)),
            "kind": rng.choice(["nps", "csat"]),
            "score": float(rng.randrange(11)),
        }
        for _ in range(60)
    ]
    return pd.DataFrame(rows), pd.DataFrame(feedback)


def reach(events: list[dict]) -> list[dict]:
    """Stage k at the first stage-k event at or after stage k-1 (events sorted by time, id)."""
    reached: list[dict] = []
    after = None
    for _, names in STAGES:
        hit = next(
            (e for e in events if e["event_name"] in names and (after is None or e["t"] >= after)),
            None,
        )
        if hit is None:
            break
        reached.append(hit)
        after = hit["t"]
    return reached


def by_person(frame: pd.DataFrame) -> dict[str, list[dict]]:
    people: dict[str, list[dict]] = {}
    for row in frame.to_dict("records"):
        people.setdefault(row["user_id"], []).append({**row, "t": row["event_time"]})
    return {u: sorted(es, key=lambda e: (e["t"], e["event_id"])) for u, es in people.items()}


def oracle_map(frame: pd.DataFrame, feedback: pd.DataFrame, key_events: list[str]) -> pd.DataFrame:
    people = by_person(frame)
    channel_of: dict[tuple[str, str], str] = {}
    for user, events in people.items():
        for e in events:
            if isinstance(e["channel"], str):
                channel_of.setdefault((user, e["session_id"]), e["channel"])
    cells: dict[tuple[str, str, int], list[dict]] = {}
    for user, events in people.items():
        reached = reach(events)
        for k, hit in enumerate(reached, start=1):
            start = hit["t"]
            end = reached[k]["t"] if k < len(reached) else None
            inside = [e for e in events if e["t"] >= start and (end is None or e["t"] < end)]
            scores = [
                f.score
                for f in feedback.itertuples()
                if f.user_id == user
                and f.kind == "nps"
                and f.event_time >= start
                and (end is None or f.event_time < end)
            ]
            fact = {
                "moved": end is not None,
                "hours": (end - start).total_seconds() / 3600 if end is not None else None,
                "revenue": sum(e["revenue"] for e in inside if e["revenue"] == e["revenue"]),
                "scores": scores,
            }
            rows = [
                ("all", "(all)"),
                ("channel", channel_of.get((user, hit["session_id"]), "(none)")),
            ]
            rows += [
                ("event", name)
                for name in key_events
                if any(e["event_name"] == name for e in inside)
            ]
            for kind, touchpoint in rows:
                cells.setdefault((kind, touchpoint, k), []).append(fact)
    out = []
    for (kind, touchpoint, k), facts in cells.items():
        moved = [f["hours"] for f in facts if f["moved"]]
        scores = [s for f in facts for s in f["scores"]]
        out.append(
            {
                "kind": kind,
                "touchpoint": touchpoint,
                "stage_index": k,
                "people": len(facts),
                "reached_next": len(moved) if k < len(STAGES) else None,
                "median_hours_in_stage": statistics.median(moved) if moved else None,
                "revenue": float(sum(f["revenue"] for f in facts)),
                "mean_score": sum(scores) / len(scores) if scores else None,
            }
        )
    return pd.DataFrame(out)


@pytest.mark.parametrize("seed", range(6))
def test_journey_map_equals_the_oracle(seed: int) -> None:
    frame, feedback = random_log(seed)
    result = journey_map(canonical(frame, feedback), STAGES, key_events=["x"])
    ours = result.table.set_index(["kind", "touchpoint", "stage_index"]).sort_index()
    expected = oracle_map(frame, feedback, ["x"]).set_index(["kind", "touchpoint", "stage_index"])
    expected = expected.sort_index()
    assert ours.index.tolist() == expected.index.tolist()
    assert ours.people.tolist() == expected.people.tolist()
    assert (
        ours.reached_next.astype("float64").fillna(-1).tolist()
        == expected.reached_next.fillna(-1).tolist()
    )
    for column in ("median_hours_in_stage", "revenue", "mean_score"):
        assert ours[column].astype("float64").fillna(-1).tolist() == pytest.approx(
            expected[column].astype("float64").fillna(-1).tolist()
        ), column
    totals = ours.loc["all"].people.droplevel("touchpoint")
    assert ours.share.tolist() == pytest.approx(
        [p / totals[k] for (_, _, k), p in ours.people.items()]
    )


def oracle_stage_of(frame: pd.DataFrame) -> dict[str, tuple[int, float, bool]]:
    found = {}
    stages = list(STAGES)
    for user, events in by_person(frame).items():
        reached = reach(events)
        if not reached:
            continue
        k, hit = len(reached), reached[-1]
        earlier = {n for _, names in stages[: k - 1] for n in names} - set(stages[k - 1][1])
        back = any(e["t"] > hit["t"] and e["event_name"] in earlier for e in events)
        hours = (events[-1]["t"] - hit["t"]).total_seconds() / 3600
        found[user] = (k, hours, back)
    return found


@pytest.mark.parametrize("seed", range(6))
def test_stage_of_equals_the_oracle(seed: int) -> None:
    frame, _ = random_log(seed)
    table = stage_of(canonical(frame), STAGES).table
    ours = {
        r.user_id: (r.stage_index, pytest.approx(r.hours_in_stage), r.went_back)
        for r in table.itertuples()
    }
    assert ours == oracle_stage_of(frame)


def test_stage_totals_equal_an_unbounded_ordered_funnel() -> None:
    frame, _ = random_log(7)
    ev = canonical(frame)
    totals = journey_map(ev, STAGES, key_events=[]).extras["stages"].people.tolist()
    assert totals == jl.funnel(ev, STAGES, within="3650d").table.users.tolist()


@pytest.fixture(scope="module")
def sample() -> jl.Workspace:
    ws = jl.open()
    datasets.load_sample(ws)
    return ws


def test_sample_stage_reach_and_closers_match_the_ground_truth(sample: jl.Workspace) -> None:
    truth = json.loads((datasets.sample_dir() / "stories.json").read_text())
    result = journey_map(sample.events())
    stages = result.extras["stages"]
    assert dict(zip(stages.stage, stages.people, strict=True)) == truth["6_stages"]
    assert stages.side.tolist() == ["before", "before", "before", "purchase", "after"]
    # the channel of the session people first bought in is the last touch of their first purchase
    bought = result.table.query("kind == 'channel' and stage == 'purchase'")
    assert (
        dict(zip(bought.touchpoint, bought.people, strict=True))
        == (truth["2_open_and_close"]["last_touch_of_first_purchase"])
    )
    assert {"removal_effects"}.isdisjoint(result.views) and "hourglass" in result.views
    assert "<svg" in result.chart_svg() and "<svg" in result.view("hourglass").chart_svg()


def test_bad_stages_and_key_events_name_the_problem(sample: jl.Workspace) -> None:
    ev = sample.events()
    with pytest.raises(jl.ParameterError, match="Did you mean 'purchase'"):
        journey_map(ev, jl.Stages({"look": ["page_view"], "buy": ["purchse"]}))
    with pytest.raises(jl.ParameterError, match="key_events"):
        journey_map(ev, key_events=["no_such_event"])
    with pytest.raises(jl.ParameterError, match="two or more"):
        journey_map(ev, jl.Stages({"only": ["page_view"]}))
