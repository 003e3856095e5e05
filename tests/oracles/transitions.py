"""The brute-force transitions oracle: the directly-follows graph of each unit's sequence.

Durations are measured to the millisecond (as on every engine), so each time is
truncated to the millisecond; the median and p95 are ``numpy.quantile``'s
linear interpolation, as DuckDB's ``quantile_cont``.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from journeylib.model.labels import END, START
from oracles import SECOND

MILLI = SECOND // 1000  # durations are measured to the millisecond on every engine


def oracle(seqs, endpoints=False, min_count=1) -> dict[tuple[str, str], dict]:
    counts: dict[tuple[str, str], int] = defaultdict(int)
    units: dict[tuple[str, str], set] = defaultdict(set)
    gaps: dict[tuple[str, str], list[float]] = defaultdict(list)
    for key, seq in seqs.items():
        names = [n for n, _ in seq]
        pairs = [
            (names[i], names[i + 1], (seq[i + 1][1] // MILLI - seq[i][1] // MILLI) / 1000)
            for i in range(len(seq) - 1)
        ]
        if endpoints:
            pairs = [(START, names[0], None), *pairs, (names[-1], END, None)]
        for source, target, gap in pairs:
            counts[(source, target)] += 1
            units[(source, target)].add(key)
            if gap is not None:
                gaps[(source, target)].append(gap)
    out_total: dict[str, int] = defaultdict(int)
    in_total: dict[str, int] = defaultdict(int)
    for (source, target), n in counts.items():
        out_total[source] += n
        in_total[target] += n
    rows = {}
    for edge, n in counts.items():
        if n < min_count:
            continue
        times = gaps[edge]
        rows[edge] = {
            "count": n,
            "users": len(units[edge]),
            "probability_out": n / out_total[edge[0]],
            "probability_in": n / in_total[edge[1]],
            "median_seconds": float(np.quantile(times, 0.5)) if times else None,
            "p95_seconds": float(np.quantile(times, 0.95)) if times else None,
        }
    return rows
