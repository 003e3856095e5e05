"""Brute-force oracles for paths, path trees and step matrices, over plain rows.

A row is (event id, user, session, microseconds after ``BASE``, name); the
oracles read each unit's sequence as ``sequences`` builds it.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict

import pandas as pd

import journeylib as jl
from journeylib.model.labels import END, OTHER, START
from oracles import BASE, SECOND, at, logs
from oracles import events as canonical

Row = tuple[str, str, str, int, str]  # event_id, user, session, microseconds after BASE, name


def events(rows: list[Row]) -> jl.Events:
    """Canonical events from (event id, user, session, microseconds after BASE, name) rows."""
    return canonical(
        {"event_id": e, "user_id": u, "event_time": at(t), "event_name": n, "session_id": s}
        for e, u, s, t, n in rows
    )


def simple(spec: dict[str, str], gap: int = SECOND) -> list[Row]:
    """Rows from {user: "a b c"}: one session per user, events ``gap`` apart."""
    rows = []
    for user, names in spec.items():
        for i, name in enumerate(names.split()):
            rows.append((f"{user}-{i:03d}", user, f"{user}-s", i * gap, name))
    return rows


# ---------------------------------------------------------------- oracles


def sequences(rows, unit="user", collapse=True, rename=None) -> dict[str, list[tuple[str, int]]]:
    """Each unit's (name, time) sequence: sorted by (time, event_id), renamed, repeats collapsed."""
    rules = [(re.compile(p), g) for p, g in (rename or {}).items()]

    def renamed(name: str) -> str:
        return next((g for p, g in rules if p.search(name)), name)

    grouped: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    for event_id, user, session, t, name in rows:
        grouped[user if unit == "user" else session].append((t, event_id, renamed(name)))
    out = {}
    for key, items in grouped.items():
        items.sort()
        seq: list[tuple[str, int]] = []
        for t, _, name in items:
            if collapse and seq and seq[-1][0] == name:
                continue
            seq.append((name, t))
        out[key] = seq
    return out


def oracle_paths(seqs, start=None, end=None, steps=5, top=20, conversion=None):
    per_unit = []
    for seq in seqs.values():
        names = [n for n, _ in seq]
        if start is not None and end is not None:
            if start not in names:
                continue
            a = names.index(start)
            b = next((i for i in range(a + 1, len(names)) if names[i] == end), None)
            if b is None:
                continue
            span = names[a : b + 1]
            shown = span if len(span) <= steps else [*span[: steps - 1], "…", end]
            count = min(len(span), steps)
            anchor = a
        elif start is not None:
            if start not in names:
                continue
            anchor = names.index(start)
            shown = names[anchor : anchor + steps]
            count = len(shown)
        elif end is not None:
            if end not in names:
                continue
            anchor = names.index(end)
            shown = names[max(0, anchor - steps + 1) : anchor + 1]
            count = len(shown)
        else:
            anchor = 0
            shown = names[:steps]
            count = len(shown)
        converted = conversion is not None and conversion in names[anchor + 1 :]
        per_unit.append((" > ".join(shown), count, converted))
    users = Counter((p, c) for p, c, _ in per_unit)
    conv = Counter((p, c) for p, c, x in per_unit if x)
    ranked = sorted(users, key=lambda pc: (-users[pc], pc[0], pc[1]))
    total = len(per_unit)
    rows = [(p, c, users[(p, c)], conv[(p, c)]) for p, c in ranked[:top]]
    rest = ranked[top:]
    if rest:
        rows.append((OTHER, None, sum(users[k] for k in rest), sum(conv[k] for k in rest)))
    return [
        {
            "path": p,
            "steps": c,
            "users": n,
            "share": n / total,
            **({"conversion_rate": x / n} if conversion is not None else {}),
        }
        for p, c, n, x in rows
    ]


def oracle_tree(seqs, anchor, steps, top, direction):
    missing = END if direction > 0 else START
    walks = []
    for seq in seqs.values():
        names = [n for n, _ in seq]
        if anchor not in names:
            continue
        a = names.index(anchor)
        walk = []
        for k in range(1, steps + 1):
            i = a + k * direction
            if 0 <= i < len(names):
                walk.append(names[i])
            else:
                walk.append(missing)
                break
        walks.append(walk)
    counts: dict[int, Counter] = defaultdict(Counter)
    for walk in walks:
        for k, name in enumerate(walk, start=1):
            counts[k][name] += 1
    keep = {
        k: {n for n in sorted((n for n in c if n != missing), key=lambda n: (-c[n], n))[:top]}
        for k, c in counts.items()
    }
    edges: Counter = Counter()
    for walk in walks:
        parent = anchor
        for k, name in enumerate(walk, start=1):
            label = name if name == missing or name in keep[k] else OTHER
            edges[(k * direction, label, parent)] += 1
            parent = label
    total = len(walks)
    rows = {(0, anchor, None, total)} if total else set()
    rows |= {(k, e, p, n) for (k, e, p), n in edges.items()}
    return rows, total


def oracle_matrix(seqs, anchor=None, steps=5, before=0):
    cells: Counter = Counter()
    total = 0
    low = -before if anchor is not None else 1
    offset = 0 if anchor is not None else 1
    for seq in seqs.values():
        names = [n for n, _ in seq]
        if anchor is not None and anchor not in names:
            continue
        total += 1
        a = names.index(anchor) if anchor is not None else 0
        for k in range(low, steps + 1):
            i = a + k - offset
            name = names[i] if 0 <= i < len(names) else (END if i >= len(names) else START)
            cells[(k, name)] += 1
    return {(k, e, n, n / total) for (k, e), n in cells.items()}


# ---------------------------------------------------------------- random logs with traps

NAMES = ["home", "view", "visit", "cart", "buy", "o'q", "ü"]
TIMES = [0, 1, 2 * SECOND, 2 * SECOND, 3 * SECOND + 250_000, 60 * SECOND, 3600 * SECOND]


def random_log(seed: int) -> list[Row]:
    """1..9 users with 1..10 events; many equal timestamps (ties broken by random event ids),
    repeats, single-event users and one session per user per day."""
    day = 86_400 * SECOND
    log = logs.random_log(
        seed,
        people=range(1, 10),
        events=[1, 1, 2, 3, 5, 7, 10],
        names=NAMES[:3] * 2 + NAMES[3:],
        offsets=[pd.Timedelta(microseconds=t + d) for t in TIMES for d in (0, 0, day)],
        sessions=pd.Timedelta(days=1),
    )
    return [
        (e, u, s, (t - BASE) // pd.Timedelta(microseconds=1), n)
        for e, u, s, t, n in log[
            ["event_id", "user_id", "session_id", "event_time", "event_name"]
        ].itertuples(index=False)
    ]
