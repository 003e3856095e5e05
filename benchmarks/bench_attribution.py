"""Attribution benchmark: paths + every model, beside DuckDB building the paths alone and ChannelAttribution.

Usage: python benchmarks/bench_attribution.py --events 10_000_000 [--repeat 3]

On the synthetic Parquet log of benchmarks/generate.py (the channel is the
medium, named as GA4's default channel group would), measures in one run:

1. DuckDB building the path summary alone (journeylib's own path SQL, run once);
2. ``jl.attribution`` with every model (paths + models), the whole call;
3. the Markov step alone (order 1) on that path summary, beside
   ChannelAttribution's ``markov_model`` (order 1, default settings) on the same
   summary, when the package is installed;
4. Shapley on 12 channels (a synthetic summary of 4,000 distinct paths).

Medians of --repeat runs, in this process (the data is read from the file each time).
"""

from __future__ import annotations

import contextlib
import io
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
from generate import arguments, generate

import journeylib as jl
from journeylib.analyses.attribution import DEFAULT_MODELS, Journeys
from journeylib.analyses.attribution.markov import markov_credit
from journeylib.analyses.attribution.shapley import shapley
from journeylib.analyses.attribution.touchpoints import PathOptions, journey_touches, path_summary

CHANNELS = {
    "organic": "Organic Search",
    "cpc": "Paid Search",
    "paid_social": "Paid Social",
    "social": "Organic Social",
    "email": "Email",
    "affiliate": "Affiliates",
    "referral": "Referral",
    "display": "Display",
    "video": "Video",
    "(none)": "Direct",
}


def events(path: Path) -> jl.Events:
    """The benchmark log with a ``channel`` column, read in place."""
    backend = ibis.duckdb.connect()
    backend.raw_sql("SET TimeZone = 'UTC'")
    raw = backend.read_parquet(str(path))
    channel = raw.medium.cases(*CHANNELS.items(), else_=None)
    return jl.connect(backend, events=raw.mutate(channel=channel)).events()


def timed(work: Callable[[], object], repeat: int) -> tuple[float, object]:
    runs, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs), result


def twelve_channel_paths(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    names = [f"channel_{i:02}" for i in range(12)]
    rows: dict[str, list[float]] = {}
    for _ in range(20_000):
        path = " > ".join(rng.choice(names, size=int(rng.integers(1, 9))))
        totals = rows.setdefault(path, [0.0, 0.0, 0.0])
        converted = rng.random() < 0.2
        totals[0 if converted else 1] += 1
        totals[2] += rng.uniform(10, 200) if converted else 0.0
    return pd.DataFrame(
        [(p, *t) for p, t in rows.items()], columns=["path", "conversions", "nulls", "value"]
    )


def main() -> None:
    parser = arguments(__doc__)
    args = parser.parse_args()
    file = generate(args.events, args.data, ["parquet"])["parquet"]
    figures: dict[str, object] = {"events": args.events}

    def paths_alone() -> pd.DataFrame:
        ev = events(file)
        return ev.engine.run(path_summary(journey_touches(ev, PathOptions())), what="paths")

    figures["paths_seconds"], summary = timed(paths_alone, args.repeat)
    assert isinstance(summary, pd.DataFrame)
    figures["distinct_paths"] = len(summary)
    figures["whole_seconds"], result = timed(
        lambda: jl.attribution(events(file), models=list(DEFAULT_MODELS)), args.repeat
    )
    assert isinstance(result, jl.Result)
    figures["checks_ok"] = bool(result.extras["checks"].ok.all())

    paths = summary.assign(path=[" > ".join(map(str, p)) for p in summary.path])
    journeys = Journeys.from_frame(paths)
    figures["markov_seconds"], _ = timed(lambda: markov_credit(journeys, 1), args.repeat)
    with contextlib.suppress(ImportError), contextlib.redirect_stdout(io.StringIO()):
        import ChannelAttribution as ca

        figures["channelattribution_markov_seconds"], _ = timed(
            lambda: ca.markov_model(
                paths, "path", "conversions", var_null="nulls", var_value="value", order=1
            ),
            args.repeat,
        )
    twelve = Journeys.from_frame(twelve_channel_paths())
    figures["shapley_12_channels_seconds"], _ = timed(lambda: shapley(twelve), args.repeat)

    for name, value in figures.items():
        print(f"{name:36} {value:.3f}" if isinstance(value, float) else f"{name:36} {value}")
    whole, alone = figures["whole_seconds"], figures["paths_seconds"]
    assert isinstance(whole, float) and isinstance(alone, float)
    print(f"whole attribution / paths alone: {whole / alone:.2f}x (target < 2x)")
    if "channelattribution_markov_seconds" in figures:
        theirs = figures["channelattribution_markov_seconds"]
        assert isinstance(theirs, float)
        ours = figures["markov_seconds"]
        assert isinstance(ours, float)
        print(f"Markov journeylib / ChannelAttribution: {ours / theirs:.3f}x (target <= 0.5x)")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"attribution_{args.events}.json").write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
