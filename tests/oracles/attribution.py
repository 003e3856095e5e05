"""The attribution path oracle: each person's touches, journeys and path transforms by
their definitions, one person at a time, over (user, hour, name, session, channel,
revenue) rows."""

from __future__ import annotations


def oracle(rows: list[tuple], options: dict) -> dict[str, tuple[float, float, float]]:
    """Path summary by the definitions, one person at a time."""
    lookback = options.get("lookback_hours")
    events = [(*r, f"e{i:03d}") for i, r in enumerate(rows)]
    end = max(r[1] for r in rows)
    out: dict[str, list[float]] = {}
    for user in sorted({r[0] for r in rows}):
        mine = sorted((e for e in events if e[0] == user), key=lambda e: (e[1], e[6]))
        touches: list[tuple[int, str]] = []
        seen_sessions = set()
        for _, hour, _, session, channel, _, event_id in mine:
            if channel is None:
                continue
            key = session if session is not None else event_id
            if options.get("touchpoint") == "event" or key not in seen_sessions:
                seen_sessions.add(key)
                touches.append((hour, channel))
        conversions = [(e[1], e[5] or 0.0) for e in mine if e[2] == "purchase"]
        journeys = [
            (
                [(t, c) for t, c in touches if t < tc and (lookback is None or t >= tc - lookback)],
                True,
                value,
            )
            for tc, value in conversions
        ]
        if not conversions:
            inside = [
                (t, c) for t, c in touches if t <= end and (lookback is None or t > end - lookback)
            ]
            journeys.append((inside, False, 0.0))
        for path_touches, converted, value in journeys:
            path = [c for _, c in sorted(path_touches)]
            path = transform(path, options)
            if not path:
                if not converted:
                    continue
                path = ["(direct)"]
            row = out.setdefault(" > ".join(path), [0, 0, 0.0])
            row[0 if converted else 1] += 1
            row[2] += value
    return {p: (c, n, v) for p, (c, n, v) in out.items()}


def transform(path: list[str], options: dict) -> list[str]:
    if options.get("lookback_steps"):
        path = path[-options["lookback_steps"] :]
    if options.get("drop_direct") and any(c not in ("Direct", "(direct)") for c in path):
        path = [c for c in path if c not in ("Direct", "(direct)")]
    kind = options.get("transform", "unique")
    if kind == "exposure":
        path = [c for i, c in enumerate(path) if i == 0 or path[i - 1] != c]
    elif kind in ("first", "frequency"):
        firsts = [c for i, c in enumerate(path) if c not in path[:i]]
        path = [f"{c}({path.count(c)})" for c in firsts] if kind == "frequency" else firsts
    if options.get("max_steps"):
        path = path[-options["max_steps"] :]
    return path
