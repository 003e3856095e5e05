"""The brute-force retention oracle: plain Python over datetimes, one person and one event
at a time, and the random logs it is compared on.

A row is (user, time, name, channel, revenue). ``BASE`` here is a Monday three
days before a month boundary, so that weeks and months begin inside the logs.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pandas as pd

import journeylib as jl
from oracles import events as canonical
from oracles import logs

#: a Monday, three days before a month boundary (Thu 2024-02-01); 2024 is a leap year
BASE = datetime(2024, 1, 29, tzinfo=UTC)
US = timedelta(microseconds=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

Row = tuple[str, datetime, str, str | None, float | None]  # user, time, name, channel, revenue
NAMES = ["A", "B", "C"]


def row_events(rows: list[Row], *, naive: bool = False) -> jl.Events:
    """Canonical events from rows; ``naive`` writes timezone-naive UTC times."""
    return canonical(
        {
            "user_id": u,
            "event_time": t.replace(tzinfo=None) if naive else t,
            "event_name": n,
            "channel": c,
            "revenue": r,
        }
        for u, t, n, c, r in rows
    )


def _period_start(t: datetime, period: str) -> datetime:
    d = t.date()
    if period == "week":
        d = d - timedelta(days=d.weekday())
    elif period == "month":
        d = d.replace(day=1)
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def _boundary(anchor: datetime, j: int, period: str, rolling: bool) -> datetime:
    """Where period j begins."""
    if rolling:
        return anchor + j * {"day": DAY, "week": 7 * DAY, "month": 30 * DAY}[period]
    if period == "month":
        months = anchor.year * 12 + anchor.month - 1 + j
        return anchor.replace(year=months // 12, month=months % 12 + 1)
    return anchor + j * (7 * DAY if period == "week" else DAY)


def _index(t: datetime, anchor: datetime, period: str, rolling: bool) -> int:
    k = 0
    while t >= _boundary(anchor, k + 1, period, rolling):
        k += 1
    return k


def oracle(
    rows: list[Row],
    start: list[str] | None,
    returning: list[str] | None,
    period: str,
    kind: str,
    periods: int,
    rolling: bool,
    cohort: str,
    by: str | None = None,
) -> dict[tuple[str, int], tuple[int, int, bool, float]]:
    """(cohort, period) -> (cohort_size, users, complete, revenue), overall rows included."""
    data_end = max(t for _, t, _, _, _ in rows)
    numbered = sorted(enumerate(rows), key=lambda p: (p[1][0], p[1][1], f"e{p[0]:05d}"))
    members: list[tuple[str, datetime, datetime, str]] = []  # user, t0, anchor, cohort
    for user, group in itertools.groupby(numbered, key=lambda p: p[1][0]):
        mine = [r for _, r in group]
        starts = [r for r in mine if start is None or r[2] in start]
        firsts: dict[object, Row] = {}
        for r in starts:  # in (time, event_id) order: the first of each key wins
            key = None if cohort == "first" else _period_start(r[1], period)
            firsts.setdefault(key, r)
        for r in firsts.values():
            t0 = r[1]
            begin = _period_start(t0, period)
            label = (r[3] or "(none)") if by else begin.date().isoformat()
            members.append((user, t0, t0 if rolling else begin, label))
    by_user = {u: [r for r in rows if r[0] == u] for u in {r[0] for r in rows}}
    cells: dict[tuple[str, int], list[float]] = {}
    sizes: dict[str, int] = {}
    complete: dict[tuple[str, int], bool] = {}
    for user, t0, anchor, label in members:
        sizes[label] = sizes.get(label, 0) + 1
        back = [r for r in by_user[user] if (returning is None or r[2] in returning) and r[1] >= t0]
        reached = {_index(r[1], anchor, period, rolling) for r in back}
        for k in range(periods + 1):
            cell = cells.setdefault((label, k), [0, 0.0])
            if (k in reached) if kind == "n_day" else any(j >= k for j in reached):
                cell[0] += 1
            cell[1] += sum(r[4] or 0.0 for r in back if _index(r[1], anchor, period, rolling) == k)
            ended = _boundary(anchor, k + 1, period, rolling) <= data_end
            complete[(label, k)] = complete.get((label, k), True) and ended
    out = {
        key: (sizes[key[0]], int(users), complete[key], money)
        for key, (users, money) in cells.items()
    }
    for k in range(periods + 1):
        done = [v for (label, j), v in out.items() if j == k and v[2]]
        size = sum(v[0] for v in done)
        out[("overall", k)] = (size, sum(v[1] for v in done), size > 0, sum(v[3] for v in done))
    return out


def rows_of(log: pd.DataFrame) -> list[Row]:
    """A generated log as rows, with missing users, channels and revenue as None."""
    return [
        (
            None if pd.isna(u) else u,
            t.to_pydatetime(),
            n,
            None if pd.isna(c) else c,
            None if pd.isna(r) else float(r),
        )
        for u, t, n, c, r in log[
            ["user_id", "event_time", "event_name", "channel", "revenue"]
        ].itertuples(index=False)
    ]


def random_log(seed: int, people: int = 12, per_person: int = 6) -> list[Row]:
    """People whose events fall 0, 1, 2, 7, 14, 30 or 60 days (and a few minutes) after
    their first, over 50 days, in three channels, some with revenue."""
    steps = [d * k for d in (timedelta(0), DAY, 7 * DAY, 30 * DAY) for k in range(3)]
    minutes = [timedelta(minutes=m) for m in (0, 0, 17, 600)]
    return rows_of(
        logs.random_log(
            seed,
            people=people,
            events=range(1, per_person + 1),
            names=NAMES,
            start=pd.Timestamp(BASE),
            first=[timedelta(hours=h) for h in range(24 * 50)],
            offsets=steps,
            jitter=minutes,
            channels=["Email", "Direct", "Paid Search"],
            revenue={name: [None, 10.0, 3.5] for name in NAMES},
        )
    )


def scattered_log(seed: int, start: datetime, days: int, people: int = 40) -> list[Row]:
    """People with events spread over ``days`` days from ``start``, some exactly on period
    boundaries or a microsecond before, with missing users and one late straggler."""
    minutes = [timedelta(minutes=m) for m in range(1440)]
    rows = rows_of(
        logs.random_log(
            seed,
            people=people,
            events=range(1, 9),
            names=NAMES,
            start=pd.Timestamp(start),
            first=[timedelta(days=d) for d in range(days)],
            offsets=[timedelta(days=d) for d in (0, 1, 6, 7, 8, 29, 31, 40, 90, 200)],
            jitter=[timedelta(0)] * len(minutes) + [-US] * len(minutes) + minutes,
            revenue={name: [None, 2.5] for name in NAMES},
            missing_user_every=13,
        )
    )
    rows.append(("late", start + timedelta(days=days + 60), "A", None, None))
    return rows


def dense_log(seed: int, people: int = 30) -> list[Row]:
    """Daily activity: each person's events fall within a week of their first, on any hour."""
    return rows_of(
        logs.random_log(
            seed,
            people=people,
            events=range(1, 9),
            names=NAMES,
            start=pd.Timestamp(BASE),
            first=[timedelta(hours=h) for h in range(24 * 5)],
            offsets=[timedelta(minutes=m) for m in range(-600, 60 * 24 * 7, 30)],
        )
    )
