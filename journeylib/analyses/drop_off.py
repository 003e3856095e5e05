"""Drop-off and pain points: who left at each stage, what they did last, and what set them apart.

Stages are reached in order as in the journey map (:func:`journeylib.model.stage_reach.stage_reach`).
At a stage (the last excepted), people who never reached the next one *left*;
the others *moved on*. For each stage:

- ``table``: the last event of the people who left, with people and share;
- ``extras["stages"]``: people who reached it, left, moved on, and the median
  hours those who left spent in the stage (from reaching it to their last event);
- ``extras["pain_points"]``: events, channels and low survey scores (at or
  below ``low_score``) over- or under-represented among those who left, against
  those who moved on, over each person's time in the stage (odds ratio, 95%
  interval, Fisher's test; see :mod:`journeylib.analyses.drivers`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
from ibis.common.exceptions import TableNotFound

from journeylib.core.durations import elapsed_seconds
from journeylib.core.spec import Spec
from journeylib.core.sql import SQL
from journeylib.display.registry import analysis
from journeylib.display.result import Result, lazy_chart
from journeylib.model.events import Events
from journeylib.model.features import feature_counts, odds_table
from journeylib.model.stage_reach import checked_stages, stage_reach
from journeylib.model.stages import FIVE_STAGE, Stages

COLUMNS = ["stage_index", "stage", "last_event", "people", "share"]


@dataclass(frozen=True)
class DropOffSpec(Spec):
    """The parameters of :func:`drop_off`."""

    stages: dict[str, Any]
    columns: tuple[str, ...] = ("channel",)
    score_kind: str = "nps"
    low_score: float = 6.0
    top: int = 5
    min_support: int = 20
    alpha: float = 0.05


@analysis(
    columns=COLUMNS,
    counts=(
        "people",
        "stages.reached",
        "stages.moved_on",
        "stages.left",
        "pain_points.left_with",
        "pain_points.moved_on_with",
    ),
)
def drop_off(
    ev: Events,
    stages: Stages = FIVE_STAGE,
    *,
    columns: tuple[str, ...] = ("channel",),
    score_kind: str = "nps",
    low_score: float = 6.0,
    top: int = 5,
    min_support: int = 20,
    alpha: float = 0.05,
) -> Result:
    """Per stage: the last events of people who left it, and what was over-represented before they left.

    Examples
    --------
    >>> import journeylib as jl, pathlib, tempfile
    >>> rows = ["user_id,event_name,event_time"]
    >>> for i in range(30):
    ...     rows.append(f"u{i},view,2024-01-01T10:00:00Z")
    ...     rows.append(f"u{i},buy,2024-01-01T11:00:00Z" if i < 10 else f"u{i},error,2024-01-01T10:05:00Z")
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "e.csv"
    >>> _ = path.write_text("\\n".join(rows) + "\\n")
    >>> ws = jl.open(); _ = ws.load_events(path)
    >>> d = drop_off(ws.events(), jl.Stages({"look": ["view"], "buy": ["buy"]}), min_support=5)
    >>> d.table[["stage", "last_event", "people", "share"]].values.tolist()
    [['look', 'error', 20, 1.0]]
    >>> d.extras["pain_points"][["stage", "feature", "left_with", "moved_on_with"]].values.tolist()
    [['look', 'error', 20, 0]]
    """
    checked_stages(ev, stages, several=True)
    reached = stage_reach(ev, stages)
    t = ev.table.filter(ev.table.user_id.notnull())
    last = t.select(
        "user_id",
        last_event=t.event_name,
        last_time=t.event_time,
        rank=ibis.row_number().over(
            group_by=t.user_id, order_by=[ibis.desc(t.event_time), ibis.desc(t.event_id)]
        ),
    )
    last = last.filter(last["rank"] == 0).drop("rank")
    people = reached.join(last, "user_id").select(
        reached.user_id,
        reached.stage_index,
        reached.t,
        reached.t_next,
        last.last_event,
        last.last_time,
    )
    left = people.filter(people.t_next.isnull() & (people.stage_index < len(stages)))
    last_events = (
        left.group_by(["stage_index", "last_event"])
        .aggregate(people=left.count())
        .order_by(["stage_index", ibis.desc("people"), "last_event"])
    )
    hours = elapsed_seconds(people.t, people.last_time) / 3600.0
    moved = people.t_next.notnull()
    summary = people.group_by("stage_index").aggregate(
        reached=people.count(),
        moved_on=moved.cast("int64").sum(),
        median_hours_before_leaving=ibis.cases((~moved, hours)).median(),
    )
    names = stages.names
    table = _last_events(
        ev.engine.run(last_events, what="the last events before leaving"), names, top
    )
    per_stage = ev.engine.run(
        summary.order_by("stage_index"), what="the drop-off per stage"
    ).assign(
        stage=lambda f: [names[int(i) - 1] for i in f.stage_index],
        left=lambda f: f.reached - f.moved_on,
    )
    step_names = [e for _, events in stages for e in events]
    low = _low_scores(ev, score_kind, low_score)
    pains: list[pd.DataFrame] = []
    queries: list[ir.Table] = [last_events, summary]
    for index in range(1, len(stages)):
        at = people.filter(people.stage_index == index)
        compared = at.select(
            unit=at.user_id,
            converted=~at.t_next.isnull(),
            since=at.t,
            until=ibis.coalesce(at.t_next, at.last_time),
        )
        extra = None
        if low is not None:
            inside = low.join(
                compared,
                [low.unit == compared.unit, low.t >= compared.since, low.t <= compared.until],
            )
            extra = inside.select(low.unit, low.kind, low.value).distinct()
        counts = feature_counts(ev, compared, step_names, list(columns), extra)
        queries.append(counts)
        found = odds_table(ev.engine.run(counts, what="pain points"), min_support)
        # drivers compare converters with droppers; here the people who left are the focus
        pains.append(_as_pain_points(found, names[index - 1], index, alpha))
    pain_points = pd.concat(pains, ignore_index=True) if pains else pd.DataFrame()
    return Result(
        "Drop-off by stage",
        table,
        SQL.of(*queries),
        DropOffSpec(
            stages.spec(), tuple(columns), score_kind, low_score, top, min_support, alpha
        ).params(),
        draw=lazy_chart("drop_off", "drop_off_chart"),
        extras={"stages": per_stage, "pain_points": pain_points},
    )


def _last_events(frame: pd.DataFrame, names: list[str], top: int) -> pd.DataFrame:
    """The ``top`` last events per stage, the rest as ``other``, with shares of those who left."""
    rows = []
    for index in sorted(int(i) for i in frame.stage_index.unique()):
        group = frame[frame.stage_index == index]
        total = int(group.people.sum())
        shown = group.head(top)
        rest = total - int(shown.people.sum())
        for event, people in zip(shown.last_event, shown.people, strict=True):
            rows.append((index, names[index - 1], str(event), int(people), people / total))
        if rest:
            rows.append((index, names[index - 1], "other", rest, rest / total))
    return pd.DataFrame(rows, columns=COLUMNS)


def _low_scores(ev: Events, kind: str, threshold: float) -> ir.Table | None:
    """``unit, t, kind, value`` of survey answers at or below ``threshold``, or None without feedback."""
    try:
        feedback = ev.engine.ibis.table("feedback")
    except TableNotFound:
        return None
    low = feedback.filter(
        [feedback.kind == kind, feedback.score <= threshold, feedback.user_id.notnull()]
    )
    label = f"{kind} <= {threshold:g}"
    return low.select(
        unit=low.user_id, t=low.event_time, kind=ibis.literal("feedback"), value=ibis.literal(label)
    )


def _as_pain_points(found: pd.DataFrame, stage: str, index: int, alpha: float) -> pd.DataFrame:
    """Drivers' table turned round: ``left_with`` and the odds of leaving with the feature."""
    significant = found[found.p_value < alpha]
    return pd.DataFrame(
        {
            "stage_index": index,
            "stage": stage,
            "feature": significant.feature,
            "left_with": significant.droppers_with,
            "moved_on_with": significant.converters_with,
            "odds_ratio_of_leaving": 1.0 / significant.odds_ratio,
            "odds_ratio_low": 1.0 / significant.odds_ratio_high,
            "odds_ratio_high": 1.0 / significant.odds_ratio_low,
            "p_value": significant.p_value,
        }
    ).sort_values(["odds_ratio_of_leaving", "feature"], ascending=[False, True], ignore_index=True)


__all__ = ["COLUMNS", "drop_off"]
