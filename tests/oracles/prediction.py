"""The next-step prediction oracle: a plain-Python Markov model with the same split and
back-off as ``predict_next``."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from journeylib.analyses.prediction import EXIT
from oracles import logs


def random_log(seed: int) -> pd.DataFrame:
    """40 people, 15 events each at increasing times (ties too); b tends to follow a, c follows b."""
    return logs.random_log(
        seed,
        people=40,
        events=[15],
        names="abcd",
        first=[pd.Timedelta(seconds=s) for s in range(0, 50_000, 7)],
        offsets=[pd.Timedelta(seconds=s) for s in (0, 1, 60, 600, 3600)],
        increasing=True,
        follow={"a": "b", "b": "c"},
    )


def oracle(frame: pd.DataFrame, order: int, holdout: float, min_count: int):
    """(train tables per context length, test transitions) built by looping over each person."""
    split = np.quantile(frame.event_time.map(pd.Timestamp.timestamp), 1 - holdout)
    tables = [dict() for _ in range(order + 1)]
    test = []
    for _, events in frame.sort_values(["event_time", "event_id"]).groupby("user_id"):
        names, times = [], []
        for name, t in zip(events.event_name, events.event_time, strict=True):
            if not names or names[-1] != name:  # repeats collapsed
                names.append(name)
                times.append(t.timestamp())
        for i, _ in enumerate(names):
            context = tuple(names[max(0, i - order + 1) : i + 1])
            nxt = names[i + 1] if i + 1 < len(names) else EXIT
            when = times[i + 1] if i + 1 < len(names) else times[i]
            if when < split:
                for length in range(len(context) + 1):
                    tail = context[len(context) - length :]
                    tables[length].setdefault(tail, Counter())[nxt] += 1
            else:
                test.append((context, nxt))

    def predict(context):
        for length in range(min(len(context), order), -1, -1):
            counts = tables[length].get(tuple(context[len(context) - length :]))
            if counts and (counts.total() >= min_count or length == 0):
                ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
                return [(e, n / counts.total()) for e, n in ranked]
        return []

    return predict, test
