"""Funnels compared: the same funnel per segment, each step tested against the first segment."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from journeylib.analyses.funnels import funnel
from journeylib.core.durations import Duration
from journeylib.core.errors import ParameterError
from journeylib.core.sql import SQL
from journeylib.display.registry import analysis
from journeylib.display.result import Result, lazy_chart
from journeylib.model.events import Events
from journeylib.model.levels import Mode, StepsSpec
from journeylib.model.stages import Stages
from journeylib.model.statistics import two_proportion_p


@dataclass(frozen=True)
class CompareFunnelsSpec(StepsSpec):
    """The parameters of :func:`compare_funnels`: the funnel's, and the segments' labels."""

    segments: tuple[str, ...] = ()


@analysis(counts=("users",))
def compare_funnels(
    segments: Mapping[str, Events],
    steps: Sequence[str] | Stages,
    within: Duration = "7d",
    mode: Mode = "ordered",
) -> Result:
    """Two or more segments' funnels side by side, each tested against the first.

    ``segments`` maps a label to events (``ev.where(...)``). Per segment and
    step: ``users``, ``conversion_rate`` (from the segment's first step), then
    against the first segment the ``difference`` in conversion rate and the
    two-sided ``p_value`` of a two-proportion z-test (pooled).

    Examples
    --------
    >>> import journeylib as jl, pathlib, tempfile
    >>> rows = ["user_id,event_name,event_time,channel"]
    >>> for i in range(20):
    ...     rows.append(f"a{i},view,2024-01-01T10:00:00Z,Email")
    ...     rows += [f"a{i},buy,2024-01-01T11:00:00Z,Email"] if i < 15 else []
    ...     rows.append(f"b{i},view,2024-01-01T10:00:00Z,Direct")
    ...     rows += [f"b{i},buy,2024-01-01T11:00:00Z,Direct"] if i < 5 else []
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "e.csv"
    >>> _ = path.write_text("\\n".join(rows) + "\\n")
    >>> ws = jl.open(); _ = ws.load_events(path); ev = ws.events()
    >>> c = compare_funnels({"Email": ev.where(channel="Email"), "Direct": ev.where(channel="Direct")},
    ...                     ["view", "buy"], "1d")
    >>> c.table.query("step == 'buy'")[["segment", "users", "conversion_rate", "difference"]].values.tolist()
    [['Email', 15, 0.75, 0.0], ['Direct', 5, 0.25, -0.5]]
    """
    if not isinstance(segments, Mapping) or len(segments) < 2:
        raise ParameterError(
            "segments", segments, reason="Give two or more {label: events} segments to compare."
        )
    runs = {str(label): funnel(events, steps, within, mode) for label, events in segments.items()}
    reference = next(iter(runs.values())).table
    frames = []
    for label, run in runs.items():
        table = run.table[["step_index", "step", "users", "conversion_rate"]].copy()
        table.insert(0, "segment", label)
        entered, base_entered = int(table.users.iloc[0]), int(reference.users.iloc[0])
        table["difference"] = table.conversion_rate - reference.conversion_rate.to_numpy()
        table["p_value"] = [
            two_proportion_p(int(x), entered, int(y), base_entered)
            for x, y in zip(table.users, reference.users, strict=True)
        ]
        frames.append(table)
    return Result(
        "Funnel by segment",
        pd.concat(frames, ignore_index=True),
        SQL.combine([run.sql for run in runs.values()], [f"segment {label}" for label in runs]),
        CompareFunnelsSpec(
            tuple(runs[next(iter(runs))].params["steps"]), within, mode, segments=tuple(runs)
        ).params(),
        draw=lazy_chart("funnel", "segments_chart"),
    )


__all__ = ["compare_funnels"]
