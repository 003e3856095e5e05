"""One call of every registered analysis, for the tests that run them all over their own data."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import journeylib as jl

Call = Callable[[jl.Events], jl.Result]


def one_call_each(
    steps: Sequence[str],
    stages: jl.Stages,
    *,
    segments: Callable[[jl.Events], dict[str, jl.Events]] = lambda ev: {"a": ev, "b": ev},
    models: Sequence[str] = ("last_touch",),
) -> dict[str, Call]:
    """A call of each analysis: funnels over ``steps`` (1-day window), stage analyses over
    ``stages``, paths and attribution converting at the last step, next steps from the first,
    previous steps before the second, comparisons between ``segments(ev)``."""
    first, second, last = steps[0], steps[1], steps[-1]
    steps = list(steps)
    return {
        "funnel": lambda ev: jl.funnel(ev, steps, "1d"),
        "time_to_convert": lambda ev: jl.time_to_convert(ev, steps, "1d"),
        "trended_funnel": lambda ev: jl.trended_funnel(ev, steps, "1d"),
        "compare_funnels": lambda ev: jl.compare_funnels(segments(ev), steps, "1d"),
        "drivers": lambda ev: jl.drivers(ev, steps, "1d", min_support=1),
        "drop_off": lambda ev: jl.drop_off(ev, stages, min_support=1),
        "paths": lambda ev: jl.paths(ev, conversion=last),
        "next_steps": lambda ev: jl.next_steps(ev, first),
        "previous_steps": lambda ev: jl.previous_steps(ev, second),
        "step_matrix": lambda ev: jl.step_matrix(ev),
        "transitions": lambda ev: jl.transitions(ev),
        "predict_next": lambda ev: jl.predict_next(ev, [first], min_count=1),
        "retention": lambda ev: jl.retention(ev, period="day"),
        "journey_map": lambda ev: jl.journey_map(ev, stages, key_events=[]),
        "stage_of": lambda ev: jl.stage_of(ev, stages),
        "personas": lambda ev: jl.personas(ev, stages, k=2),
        "compare_segments": lambda ev: jl.compare_segments(ev, segments(ev), steps=steps),
        "attribution": lambda ev: jl.attribution(ev, conversion=last, models=list(models)),
    }
