"""Brute-force funnel oracles over (user, microseconds after BASE, name) rows: every attempt
and every choice of events, and the strict mode's very-next-event rule."""

from __future__ import annotations

import itertools


def oracle(
    rows, steps, window_us, mode="ordered", from_previous=False, step_us=None
) -> dict[str, int]:
    """Exhaustive: every attempt, every choice of events; the best level per user with an entry.

    ``step_us``: per-step windows, step k+1 within step_us[k-1] of step k.
    """
    levels: dict[str, int] = {}
    size = len(steps)
    for user, group in itertools.groupby(sorted(rows), key=lambda r: r[0]):
        # one row per (event, step it matches), in (time, step index) order
        matched = sorted(
            (t, k) for _, t, name in group for k, s in enumerate(steps, 1) if name == s
        )
        if not any(k == 1 for _, k in matched):
            continue
        best = 0
        if mode == "unordered":
            for anchor, _ in matched:
                inside = {k for t, k in matched if anchor <= t <= anchor + window_us}
                level = 0
                while level < size and level + 1 in inside:
                    level += 1
                best = max(best, level)
        else:

            def search(matched: list, position: int, reached: int, first: int, last: int) -> None:
                nonlocal best
                best = max(best, reached)
                for later in range(position + 1, len(matched)):
                    t, k = matched[later]
                    if k != reached + 1 or (mode == "strict_increase" and t <= last):
                        continue
                    if step_us and t > last + step_us[reached - 1]:
                        continue
                    if t <= (last if from_previous else first) + window_us:
                        search(matched, later, reached + 1, first, t)

            for position, (t, k) in enumerate(matched):
                if k == 1:
                    search(matched, position, 1, t, t)
        levels[user] = best
    return levels


def strict_oracle(rows, steps, window_us, from_previous=False) -> dict[str, int]:
    """Strict: from each entry, each next step must be the user's very next event.

    A user's events are ordered by (time, first step the name matches, event id),
    names matching no step last among equal times; event ids are e0, e1, ... as
    ``events`` writes them (compared as text).
    """
    by_user: dict[str, list] = {}
    for i, (user, t, name) in enumerate(rows):
        first = next((k for k, s in enumerate(steps, 1) if s == name), len(steps) + 1)
        by_user.setdefault(user, []).append((t, first, f"e{i}", name))
    levels = {}
    for user, sequence in by_user.items():
        sequence.sort()
        best = 0
        for start, (t1, _, _, name) in enumerate(sequence):
            if name != steps[0]:
                continue
            level, last, position = 1, t1, start
            while level < len(steps) and position + 1 < len(sequence):
                t, _, _, following = sequence[position + 1]
                if following != steps[level] or t > (last if from_previous else t1) + window_us:
                    break
                level, last, position = level + 1, t, position + 1
            best = max(best, level)
        if any(name == steps[0] for *_, name in sequence):
            levels[user] = best
    return levels
