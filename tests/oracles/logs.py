"""One random-log generator for the oracle tests: every test draws its events here.

Each test asks for the traps its analysis must survive (ties, repeats, people
with one event, several sessions, missing channels, missing users, times on
period boundaries) by choosing the offsets, names and sessions it draws from.
Event ids are drawn at random, so ties in time are broken in no particular
order of the rows.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

import pandas as pd

from oracles import BASE

COLUMNS = ["event_id", "user_id", "session_id", "event_time", "event_name", "channel", "revenue"]


def random_log(
    seed: int,
    *,
    people: int | range = 30,
    events: Sequence[int] = (1, 2, 3, 5, 8),
    names: Sequence[str] = ("a", "b", "c", "d"),
    start: pd.Timestamp = BASE,
    first: Sequence[pd.Timedelta] = (pd.Timedelta(0),),
    offsets: Sequence[pd.Timedelta] = (pd.Timedelta(0), pd.Timedelta(minutes=1)),
    jitter: Sequence[pd.Timedelta] = (pd.Timedelta(0),),
    increasing: bool = False,
    follow: Mapping[str, str] | None = None,
    sessions: int | pd.Timedelta = 1,
    channels: Sequence[str | None] = (None,),
    revenue: Mapping[str, Sequence[float | None]] | None = None,
    missing_user_every: int = 0,
) -> pd.DataFrame:
    """A log of canonical columns (see ``COLUMNS``), drawn from ``seed``.

    Per person (``people`` of them, or a number drawn from the range): a count of
    events drawn from ``events``; a first time ``start`` + a draw from ``first``;
    each event at the first time + a draw from ``offsets`` + a draw from
    ``jitter`` (or, when ``increasing``, the previous event's time + a draw
    from ``offsets``). A name is drawn from ``names``, except that after a name
    in ``follow`` its follower comes with probability 0.6. ``sessions`` is a
    number of sessions per person to draw from, or a period: one session per
    person per period since ``start``. ``revenue`` gives the values to draw per
    event name (others get none); every ``missing_user_every``-th person has no
    user id.

    >>> random_log(1, people=2, events=[3]).shape
    (6, 7)
    """
    rng = random.Random(seed)
    count = people if isinstance(people, int) else rng.choice(people)
    rows: list[dict] = []
    for person in range(count):
        missing = missing_user_every and person % missing_user_every == missing_user_every - 1
        user = None if missing else f"u{person}"
        t = start + rng.choice(first)
        first_time, previous = t, None
        for _ in range(rng.choice(events)):
            if increasing:
                t += rng.choice(offsets)
            else:
                t = first_time + rng.choice(offsets) + rng.choice(jitter)
            name = rng.choice(names)
            if follow and previous in follow and rng.random() < 0.6:
                name = follow[previous]
            previous = name
            if isinstance(sessions, int):
                session = f"{user}-s{rng.randrange(sessions)}"
            else:
                session = f"{user}-s{(t - start) // sessions}"
            values = (revenue or {}).get(name, (None,))
            rows.append(
                {
                    "user_id": user,
                    "session_id": session,
                    "event_time": t,
                    "event_name": name,
                    "channel": rng.choice(channels),
                    "revenue": rng.choice(values),
                }
            )
    ids = rng.sample(range(10 * len(rows) + 10), len(rows))
    for row, number in zip(rows, ids, strict=True):
        row["event_id"] = f"e{number:06d}"
    return pd.DataFrame(rows, columns=COLUMNS)
