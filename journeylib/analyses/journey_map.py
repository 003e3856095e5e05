"""The journey map: stages across, touchpoints down, and the hourglass (issue #5).

Each person moves through the stages in order: they reach stage 1 at their
first stage-1 event, and stage k at their first stage-k event at or after they
reached stage k-1 (no window: the same people an ordered funnel over the
stages counts with an unbounded window). A person is *in* stage k from then
until they reach stage k+1 (or until their data ends).

A cell of the map is a stage and a touchpoint:

- a channel: the people who reached the stage in a session that came from it
  (the channel of the session's first event with one; ``(none)`` otherwise);
- a key event: the people who did that event while in the stage;
- ``(all)``: everyone who reached the stage.

For each cell: people, share of the stage's people, how many reached the next
stage and the conversion to it, the median hours in the stage (of those who
moved on), the revenue of their events while in the stage, and with feedback
loaded, the mean survey score they gave while in the stage.

All of it is computed in the engine; Python only names the stages and adds
the shares.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
from ibis.common.exceptions import TableNotFound

from journeylib.core.durations import elapsed_seconds
from journeylib.core.errors import ParameterError
from journeylib.core.spec import Spec
from journeylib.core.sql import SQL
from journeylib.display.registry import analysis
from journeylib.display.result import Result, lazy_chart
from journeylib.model.events import Events
from journeylib.model.labels import NONE
from journeylib.model.rules import EventRule
from journeylib.model.stage_reach import checked_stages, stage_reach
from journeylib.model.stages import FIVE_STAGE, Stages, require_events
from journeylib.model.touchpoints import touchpoints

ALL = "(all)"
#: the stable columns, in order
COLUMNS = [
    "kind",
    "touchpoint",
    "stage_index",
    "stage",
    "people",
    "share",
    "reached_next",
    "conversion_to_next",
    "median_hours_in_stage",
    "revenue",
    "mean_score",
]


@dataclass(frozen=True)
class StageOfSpec(Spec):
    """The parameters of :func:`stage_of`: the stage map, as :meth:`Stages.spec` writes it."""

    stages: dict[str, Any]


@dataclass(frozen=True)
class JourneyMapSpec(StageOfSpec):
    """The parameters of :func:`journey_map`, once the key events are known."""

    key_events: tuple[str, ...] = ()
    score_kind: str = "nps"
    purchase_stage: str = "purchase"


@analysis(columns=COLUMNS, counts=("people", "reached_next"), views=("hourglass",))
def journey_map(
    ev: Events,
    stages: Stages = FIVE_STAGE,
    *,
    key_events: Sequence[str] | None = None,
    top_events: int = 5,
    score_kind: str = "nps",
    purchase_stage: str = "purchase",
) -> Result:
    """People, conversion, time, revenue and satisfaction per stage and touchpoint.

    ``key_events`` are the events shown as touchpoints beside the channels; by
    default the ``top_events`` most frequent events that define no stage.
    ``score_kind`` picks the feedback kind averaged (``nps``, ``csat``).
    ``extras["stages"]`` holds one row per stage with its ``side`` of the
    purchase (before, purchase, after): ``result.view("hourglass")`` draws it.

    Examples
    --------
    >>> import journeylib as jl, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "e.csv"
    >>> _ = path.write_text("user_id,event_name,event_time,channel,session_id\\n"
    ...     "a,view,2024-01-01T10:00:00Z,Email,s1\\na,buy,2024-01-02T10:00:00Z,Email,s2\\n"
    ...     "b,view,2024-01-01T10:00:00Z,Paid Search,s3\\n")
    >>> ws = jl.open(); _ = ws.load_events(path)
    >>> m = journey_map(ws.events(), jl.Stages({"aware": ["view"], "buy": ["buy"]}), key_events=[])
    >>> m.table.query("kind == 'all'")[["stage", "people", "conversion_to_next"]].values.tolist()
    [['aware', 2, 0.5], ['buy', 1, nan]]
    """
    present = checked_stages(ev, stages, several=True)
    labels = [label for label, _ in stages]
    if purchase_stage not in labels and purchase_stage != "purchase":
        # the default may be absent (then every stage is "before"); a name given must exist
        raise ParameterError("purchase_stage", purchase_stage, allowed=labels)
    stage_names = set().union(*(set(events) for _, events in stages))
    if key_events is None:
        others = ev.where(ev.table.event_name.notin(list(stage_names)))
        events = others.frequent_event_names(top_events) if top_events > 0 else []
    else:
        events = [str(e) for e in key_events]
        require_events([(e, (e,)) for e in events], present, param="key_events")
    reached = stage_reach(ev, stages)
    facts = _stage_facts(ev, reached, score_kind)
    members = _membership(ev, reached, events)
    cells = _cells(members, facts)
    frame = ev.engine.run(cells, what="the journey map")
    table = _table(frame, stages.names)
    notes = _fixed_times(frame, stages)
    totals = table[table.kind == "all"].drop(columns=["kind", "touchpoint"])
    totals = totals.assign(side=_sides(totals.stage.tolist(), purchase_stage)).reset_index(
        drop=True
    )
    return Result(
        "Journey map",
        table,
        SQL.of(cells),
        JourneyMapSpec(stages.spec(), tuple(events), score_kind, purchase_stage).params(),
        draw=lazy_chart("journey_map", "journey_map_chart"),
        extras={"stages": totals},
        views={"hourglass": lazy_chart("journey_map", "hourglass_chart")},
        notes=notes,
    )


@analysis()
def stage_of(ev: Events, stages: Stages = FIVE_STAGE) -> Result:
    """Each person's furthest stage, when they reached it, time since, and whether they went back.

    Columns: ``user_id``, ``stage_index``, ``stage``, ``reached_at``,
    ``hours_in_stage`` (from reaching it to the person's last event), and
    ``went_back`` (an event of an earlier stage only, after reaching it).
    People with no stage-1 event are not listed.

    Examples
    --------
    >>> import journeylib as jl, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "e.csv"
    >>> _ = path.write_text("user_id,event_name,event_time\\n"
    ...     "a,view,2024-01-01T10:00:00Z\\na,cart,2024-01-01T11:00:00Z\\na,view,2024-01-01T12:00:00Z\\n"
    ...     "b,view,2024-01-01T10:00:00Z\\n")
    >>> ws = jl.open(); _ = ws.load_events(path)
    >>> s = stage_of(ws.events(), jl.Stages({"look": ["view"], "want": ["cart"]}))
    >>> s.table[["user_id", "stage", "hours_in_stage", "went_back"]].values.tolist()
    [['a', 'want', 1.0, True], ['b', 'look', 0.0, False]]
    """
    checked_stages(ev, stages)
    reached = stage_reach(ev, stages)
    furthest = reached.filter(reached.t_next.isnull())
    t = ev.table.filter(ev.table.user_id.notnull())
    last = t.group_by("user_id").aggregate(last_event=t.event_time.max())
    rules = [rule for _, rule in stages.rules()]
    earlier_only = [
        ibis.and_(rule.matches(t), furthest.stage_index > index)
        for index, rule in enumerate(rules, start=1)
    ]
    back = t.join(furthest, [t.user_id == furthest.user_id, t.event_time > furthest.t]).select(
        t.user_id, back=ibis.or_(*earlier_only) & ~_in_stage(t, furthest, rules)
    )
    went_back = back.group_by("user_id").aggregate(went_back=back.back.any())
    joined = (
        furthest.join(last, "user_id")
        .left_join(went_back, furthest.user_id == went_back.user_id)
        .select(
            furthest.user_id,
            furthest.stage_index,
            reached_at=furthest.t,
            hours_in_stage=elapsed_seconds(furthest.t, last.last_event) / 3600.0,
            went_back=went_back.went_back.fill_null(False),
        )
        .order_by("user_id")
    )
    frame = ev.engine.run(joined, what="each person's stage")
    frame.insert(2, "stage", [stages.names[int(i) - 1] for i in frame.stage_index])
    return Result(
        "Stage of each person",
        frame,
        SQL.of(joined),
        StageOfSpec(stages.spec()).params(),
        draw=lazy_chart("journey_map", "stage_of_chart"),
    )


def _in_stage(t: ir.Table, furthest: ir.Table, rules: list[EventRule]) -> ir.BooleanValue:
    """Whether an event belongs to the person's furthest stage (then it is no step back)."""
    return ibis.or_(
        *(
            rule.matches(t) & (furthest.stage_index == index)
            for index, rule in enumerate(rules, start=1)
        )
    )


def _stage_facts(ev: Events, reached: ir.Table, score_kind: str) -> ir.Table:
    """Per person and stage: ``t``, ``t_next``, ``revenue`` and ``score`` while in the stage."""
    t = ev.table
    paid = t.filter([t.revenue.notnull(), t.user_id.notnull()])
    during = _during(reached, paid, paid.event_time)
    revenue = during.group_by(["user_id", "stage_index"]).aggregate(
        revenue=during.revenue.sum().cast("float64")
    )
    facts = reached.left_join(
        revenue,
        [reached.user_id == revenue.user_id, reached.stage_index == revenue.stage_index],
    ).select(reached, revenue=revenue.revenue.fill_null(0.0))
    try:
        feedback = ev.engine.ibis.table("feedback")
    except TableNotFound:
        return facts.mutate(score_sum=ibis.null("float64"), score_count=ibis.null("int64"))
    given = feedback.filter(
        [feedback.kind == score_kind, feedback.score.notnull(), feedback.user_id.notnull()]
    )
    rated = _during(reached, given, given.event_time)
    scores = rated.group_by(["user_id", "stage_index"]).aggregate(
        score_sum=rated.score.sum(), score_count=rated.score.count()
    )
    return facts.left_join(
        scores, [facts.user_id == scores.user_id, facts.stage_index == scores.stage_index]
    ).select(facts, score_sum=scores.score_sum, score_count=scores.score_count)


def _during(reached: ir.Table, rows: ir.Table, when: ir.TimestampColumn) -> ir.Table:
    """``rows`` joined to the stage each person was in at ``when``: ``[t, t_next)``."""
    inside = (when >= reached.t) & (reached.t_next.isnull() | (when < reached.t_next))
    return rows.join(reached, [rows.user_id == reached.user_id, inside]).select(
        rows, stage_index=reached.stage_index
    )


def _membership(ev: Events, reached: ir.Table, events: Sequence[str]) -> ir.Table:
    """``user_id, stage_index, kind, touchpoint``: who belongs to which row of the map."""
    t = ev.table
    touches = touchpoints(ev)  # a session's channel: that of its first event with one
    sessions = touches.filter(touches.session_id.notnull())
    by_channel = reached.left_join(
        sessions,
        [reached.user_id == sessions.user_id, reached.session_id == sessions.session_id],
    ).select(
        reached.user_id,
        reached.stage_index,
        kind=ibis.literal("channel"),
        touchpoint=sessions.channel.fill_null(NONE),
    )
    everyone = reached.select(
        "user_id", "stage_index", kind=ibis.literal("all"), touchpoint=ibis.literal(ALL)
    )
    parts = [everyone, by_channel]
    if events:
        hits = t.filter([t.event_name.isin(list(events)), t.user_id.notnull()])
        during = _during(reached, hits, hits.event_time)
        parts.append(
            during.select(
                "user_id", "stage_index", kind=ibis.literal("event"), touchpoint=during.event_name
            ).distinct()
        )
    return ibis.union(*parts, distinct=False)


def _cells(members: ir.Table, facts: ir.Table) -> ir.Table:
    joined = members.join(
        facts, [members.user_id == facts.user_id, members.stage_index == facts.stage_index]
    ).select(members, facts.t, facts.t_next, facts.revenue, facts.score_sum, facts.score_count)
    moved = joined.t_next.notnull()
    hours = elapsed_seconds(joined.t, joined.t_next) / 3600.0
    return joined.group_by(["kind", "touchpoint", "stage_index"]).aggregate(
        people=joined.user_id.nunique(),
        reached_next=moved.cast("int64").sum(),
        median_hours_in_stage=ibis.ifelse(moved, hours, ibis.null("float64")).median(),
        # the quartiles say when at least half moved on after the same time (see _fixed_times)
        lower_hours=ibis.ifelse(moved, hours, ibis.null("float64")).quantile(0.25),
        upper_hours=ibis.ifelse(moved, hours, ibis.null("float64")).quantile(0.75),
        revenue=joined.revenue.sum(),
        score_sum=joined.score_sum.sum(),
        score_count=joined.score_count.sum(),
    )


def _fixed_times(frame: pd.DataFrame, stages: Stages) -> tuple[str, ...]:
    """Notes for stages that at least half of those moving on left after the same time.

    A median that reads as a round figure (168.0 hours) looks like a window's cap;
    the map has no window, so say that the data is like that and where to look.

    >>> frame = pd.DataFrame({"kind": ["all"], "stage_index": [1], "reached_next": [40],
    ...     "lower_hours": [167.99], "upper_hours": [168.0], "median_hours_in_stage": [168.0]})
    >>> print(_fixed_times(frame, Stages({"buy": ["purchase"], "survey": ["nps_response"]}))[0])
    ... # doctest: +ELLIPSIS
    Median hours in buy read 168.0 because at least half of the 40 people who moved on ...
    """
    notes = []
    names = stages.names
    for row in frame[frame.kind == "all"].to_dict("records"):
        index, movers = int(row["stage_index"]), int(row["reached_next"])
        low, high = row["lower_hours"], row["upper_hours"]
        if index >= len(names) or movers < 20 or pd.isna(low) or high - low > 1 / 60:
            continue
        following = names[index]
        notes.append(
            f"Median hours in {names[index - 1]} read {row['median_hours_in_stage']:.1f} because"
            f" at least half of the {movers:,} people who moved on reached"
            f" {following} ({', '.join(stages.events(following))}) after that same time, to the"
            " minute. The journey map has no window: this is how the data is (a survey or message"
            " sent a fixed time later?), not a cap."
        )
    return tuple(notes)


def _table(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    frame = frame.copy()
    frame["stage"] = [names[int(i) - 1] for i in frame.stage_index]
    totals = frame[frame.kind == "all"].set_index("stage_index").people
    frame["share"] = frame.people / frame.stage_index.map(totals)
    last = frame.stage_index == len(names)
    frame["conversion_to_next"] = (frame.reached_next / frame.people).where(~last)
    frame["reached_next"] = frame.reached_next.where(~last).astype("Int64")
    counts = frame.score_count.astype("float64")
    frame["mean_score"] = (frame.score_sum / counts).where(counts > 0)
    frame["revenue"] = frame.revenue.astype("float64")
    order = {"all": 0, "channel": 1, "event": 2}
    frame = frame.assign(_kind=frame.kind.map(order), _people=-frame.people)
    frame = frame.sort_values(["_kind", "stage_index", "_people", "touchpoint"])
    return frame[COLUMNS].reset_index(drop=True)


def _sides(names: list[str], purchase_stage: str) -> list[str]:
    """``before``, ``purchase`` or ``after`` per stage (all ``before`` without that stage)."""
    if purchase_stage not in names:
        return ["before"] * len(names)
    at = names.index(purchase_stage)
    return ["before" if i < at else "purchase" if i == at else "after" for i in range(len(names))]


__all__ = ["COLUMNS", "journey_map", "stage_of"]
