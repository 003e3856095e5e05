"""The brute-force drivers oracle: which events and channels the converters and droppers of
a -> b within an hour had inside their attempt."""

from __future__ import annotations

import pandas as pd

from oracles import logs

WINDOW = pd.Timedelta(minutes=60)


def random_log(seed: int) -> pd.DataFrame:
    """60 people with 4..12 events each over 400 minutes, one session each; ties, repeats,
    channels missing on a third of the events."""
    return logs.random_log(
        seed,
        people=60,
        events=range(4, 13),
        names=["a", "b", "x", "y", "z"],
        offsets=[pd.Timedelta(minutes=m) for m in range(400)],
        channels=["Email", "Direct", None],
    )


def oracle(frame: pd.DataFrame) -> dict[tuple[str, str], tuple[int, int]]:
    """Funnel a -> b within an hour, best attempt = earliest a with a b in its window."""
    end = frame.event_time.max()
    found: dict[tuple[str, str], list[int]] = {}
    for _, events in frame.groupby("user_id"):
        events = events.sort_values(["event_time", "event_id"])
        starts = events[events.event_name == "a"].event_time.tolist()
        if not starts:
            continue
        attempts = [
            (t1, min(bs))
            for t1 in starts
            if (
                bs := [
                    t for t in events[events.event_name == "b"].event_time if t1 <= t <= t1 + WINDOW
                ]
            )
        ]
        if attempts:
            since, until, converted = *min(attempts), True
        else:
            since, until, converted = starts[0], starts[0] + WINDOW, False
            if until > end:
                continue  # still inside the window when the data ends
        inside = events[(events.event_time >= since) & (events.event_time <= until)]
        features = {("event", n) for n in inside.event_name if n not in ("a", "b")}
        features |= {("channel", c) for c in inside.channel if isinstance(c, str)}
        for feature in features:
            counts = found.setdefault(feature, [0, 0])
            counts[0 if converted else 1] += 1
    return {k: (v[0], v[1]) for k, v in found.items()}
