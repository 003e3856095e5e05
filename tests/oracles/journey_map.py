"""Brute-force oracles over stage reach: the journey map, ``stage_of`` and drop-off.

A person reaches stage k at their first stage-k event at or after the stage
k-1 event they reached (events in time, then event id, order).
"""

from __future__ import annotations

import random
import statistics
from collections import Counter

import pandas as pd

import journeylib as jl
from oracles import logs

STAGES = jl.Stages({"s1": ["a"], "s2": ["b", "c"], "s3": ["d"]})
NAMES = ["a", "b", "c", "d", "x", "y"]


def random_log(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Events full of traps (ties, repeats, stages out of order, sessions without a channel)
    and survey answers beside them."""
    frame = logs.random_log(
        seed,
        people=30,
        events=range(8, 19),
        names=NAMES,
        offsets=[pd.Timedelta(minutes=m) for m in range(300)],
        sessions=4,
        channels=["Email", "Paid Search", None, None],
        revenue={"d": [float(v) for v in range(1, 100)]},
    )
    rng = random.Random(seed)
    feedback = [
        {
            "user_id": f"u{rng.randrange(30)}",
            "event_time": logs.BASE + pd.Timedelta(minutes=rng.randrange(300)),
            "kind": rng.choice(["nps", "csat"]),
            "score": float(rng.randrange(11)),
        }
        for _ in range(60)
    ]
    return frame, pd.DataFrame(feedback)


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


def oracle_drop_off(
    frame: pd.DataFrame,
) -> tuple[Counter, dict[int, tuple[int, int, float | None]]]:
    """(last events of those who left each stage, per stage: reached, moved on, median hours)."""
    last_events: Counter = Counter()
    stages: dict[int, list] = {}
    for events in by_person(frame).values():
        reached = reach(events)
        last = events[-1]
        for k, hit in enumerate(reached, start=1):
            entry = stages.setdefault(k, [0, 0, []])
            entry[0] += 1
            if k < len(reached):
                entry[1] += 1
            elif k < len(STAGES):
                last_events[(k, last["event_name"])] += 1
                entry[2].append((last["t"] - hit["t"]).total_seconds() / 3600)
            else:
                entry[2].append((last["t"] - hit["t"]).total_seconds() / 3600)
    summary = {
        k: (n, moved, statistics.median(hours) if hours else None)
        for k, (n, moved, hours) in stages.items()
    }
    return last_events, summary
