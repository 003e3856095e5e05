"""Touchpoints and paths built in the engine, as Ibis expressions (ADR 0008).

In small named steps:

1. ``touchpoints``: one touch per session (the channel and time of its first
   event with a channel), or every event with a channel (``touchpoint="event"``).
2. ``journeys``: one row per conversion event (its value is the event's
   revenue), plus, for each person with touches and no conversion, one
   non-converting journey ending when the data ends.
3. ``journey_touches``: the touches of each journey inside the lookback
   (``t_conv - L <= t < t_conv``; ``t_end - L < t <= t_end`` for a
   non-converting journey), the last ``lookback_steps`` of them, then direct
   touches dropped unless all are direct, the path transform (``unique``,
   ``exposure``, ``first``, ``frequency``) and the last ``max_steps`` kept. A
   conversion with no touch has one ``(direct)`` touch at its own time (never
   given a count by ``frequency``).
4. ``path_summary``: each journey's path (its touches collected as structs and
   the array sorted, never an ordered aggregate), grouped into ``path``,
   ``conversions``, ``nulls`` and ``value``.

Time decay needs each touch's age and W-shaped the CRM milestones, so their
credit is computed here too, from the same journey touches: a weight per
touch (``2^(-age / half_life)``; 0.3 per milestone, 0.1 shared by the rest)
normalised per conversion.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, get_args

import ibis
import ibis.expr.types as ir

from journeylib.analyses.attribution.heuristics import DIRECT_CHANNELS
from journeylib.analyses.attribution.journeys import DIRECT
from journeylib.core.durations import elapsed_seconds, interval
from journeylib.core.errors import ParameterError, whole_number
from journeylib.core.spec import Spec
from journeylib.model.events import Events
from journeylib.model.touchpoints import TOUCHPOINTS, touchpoints

Transform = Literal["unique", "exposure", "first", "frequency"]
Count = Literal["every", "first"]
Touchpoint = Literal["session", "event"]
TRANSFORMS: tuple[str, ...] = get_args(Transform)
#: which conversion events are journeys: every one, or each person's first
COUNTS: tuple[str, ...] = get_args(Count)
JOURNEY_KEYS = ("user_id", "journey")


@dataclass(frozen=True)
class PathOptions(Spec):
    """How touches become a journey's path (see the module docstring)."""

    conversion: tuple[str, ...] = ("purchase",)
    count: Count = "every"
    lookback: timedelta | None = timedelta(days=30)
    touchpoint: Touchpoint = "session"
    lookback_steps: int | None = None
    drop_direct: bool = False
    direct: tuple[str, ...] = DIRECT_CHANNELS
    transform: Transform = "unique"
    max_steps: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("lookback_steps", "max_steps"):
            if getattr(self, name) is not None:
                whole_number(name, getattr(self, name))
        if not self.conversion:
            raise ParameterError("conversion", self.conversion, reason="Name a conversion event.")


def journeys(
    ev: Events, touches: ir.Table, conversion: Sequence[str], count: str = "every"
) -> ir.Table:
    """``user_id``, ``journey`` (0-based per person), ``tc``, ``value``, ``converted``.

    Every conversion event is a journey (only each person's first with
    ``count="first"``); a person with touches and no
    conversion has one non-converting journey ending at the last event in scope.
    """
    t = ev.table
    hits = t.filter([t.event_name.isin(list(conversion)), t.user_id.notnull()])
    number = ibis.row_number().over(
        group_by=hits.user_id, order_by=[hits.event_time, hits.event_id]
    )
    converted = hits.select(
        "user_id",
        journey=number,
        tc=hits.event_time,
        value=hits.revenue.fill_null(0.0).cast("float64"),
        converted=ibis.literal(True),
    )
    if count == "first":
        converted = converted.filter(converted.journey == 0)
    end = t.event_time.max().as_scalar()
    people = touches.select("user_id").distinct()
    idle = people.anti_join(hits.select("user_id").distinct(), "user_id")
    open_ = idle.select(
        "user_id",
        journey=ibis.literal(0, type="int64"),
        tc=end,
        value=ibis.literal(0.0),
        converted=ibis.literal(False),
    )
    return ibis.union(converted, open_, distinct=False)


def journey_touches(ev: Events, options: PathOptions) -> ir.Table:
    """Touches per journey after the lookback and the path transforms.

    Columns: ``user_id``, ``journey``, ``converted``, ``value``, ``tc``, ``t``,
    ``channel`` and ``label`` (the channel, or ``channel(n)`` with the
    ``frequency`` transform).
    """
    touches = touchpoints(ev, options.touchpoint)
    paths = journeys(ev, touches, options.conversion, options.count)
    keys = [paths.user_id == touches.user_id]
    if options.lookback is not None:
        span = interval(options.lookback)
        keys.append(
            ibis.ifelse(
                paths.converted,
                (touches.t >= paths.tc - span) & (touches.t < paths.tc),
                (touches.t > paths.tc - span) & (touches.t <= paths.tc),
            )
        )
    else:
        keys.append(ibis.ifelse(paths.converted, touches.t < paths.tc, touches.t <= paths.tc))
    joined = paths.left_join(touches, keys).select(
        paths,
        t=ibis.coalesce(touches.t, paths.tc),
        channel=touches.channel,
    )
    # a conversion with no touch counts under (direct); an empty non-converting journey is none
    rows = joined.filter(joined.channel.notnull() | joined.converted).mutate(
        channel=joined.channel.fill_null(DIRECT)
    )
    if options.lookback_steps is not None:
        rows = _last(rows, options.lookback_steps)
    if options.drop_direct:
        rows = _drop_direct(rows, options.direct)
    rows = _transform(rows, options.transform)
    if options.max_steps is not None:
        rows = _last(rows, options.max_steps)
    return rows


def path_summary(touches: ir.Table) -> ir.Table:
    """Journeys grouped by path: ``path`` (array of labels), ``conversions``, ``nulls``, ``value``."""
    per_journey = touches.group_by([*JOURNEY_KEYS, "converted", "value"]).aggregate(
        path=ibis.struct({"t": touches.t, "channel": touches.channel, "label": touches.label})
        .collect()
        .sort()
        .map(lambda touch: touch.label)
    )
    converted = per_journey.converted.cast("int64")
    return per_journey.group_by("path").aggregate(
        conversions=converted.sum(),
        nulls=(1 - converted).sum(),
        value=per_journey.value.sum(),
    )


def time_decay(touches: ir.Table, half_life: timedelta) -> ir.Table:
    """Converting journeys' touches weighted ``2^(-age / half_life)``, age = time to conversion."""
    rows = touches.filter(touches.converted)
    age = elapsed_seconds(rows.t, rows.tc)
    rate = ibis.literal(-math.log(2) / half_life.total_seconds(), type="float64")
    return rows.mutate(weight=(age.cast("float64") * rate).exp())


def w_shaped(ev: Events, touches: ir.Table, milestones: Sequence[str]) -> ir.Table:
    """Converting journeys' touches weighted for the W-shaped model.

    Milestone touches are the first touch and, for each milestone event (CRM
    lead and opportunity creation by default), the last touch at or before the
    person's first such event, if that came before the conversion. A touch
    weighs 0.3 per milestone it carries (coinciding milestones add up); the
    other touches share 0.1. Weights are then normalised per conversion, so
    a journey without other touches splits 1 over its milestones.
    """
    t = ev.table
    keys = list(JOURNEY_KEYS)
    converting = touches.filter(touches.converted)
    first = ibis.row_number().over(group_by=keys, order_by=_order(converting)) == 0
    rows = converting.mutate(marks=first.cast("int64"))
    for name in milestones:
        hits = t.filter([t.event_name == name, t.user_id.notnull()])
        when = hits.group_by(person=hits.user_id).aggregate(milestone=hits.event_time.min())
        joined = rows.left_join(when, rows.user_id == when.person).select(
            rows, milestone=when.milestone
        )
        eligible = (
            joined.milestone.notnull()
            & (joined.milestone <= joined.tc)
            & (joined.t <= joined.milestone)
        )
        latest = ibis.row_number().over(
            group_by=[*keys, eligible], order_by=_order(joined, descending=True)
        )
        picked = (eligible & (latest == 0)).cast("int64")
        rows = joined.mutate(marks=joined.marks + picked).drop("milestone")
    # float literals: Spark reads 0.1 as a decimal and rounds the quotient to 6 places
    rest = (rows.marks == 0).cast("float64").sum().over(group_by=keys)
    milestone, other = ibis.literal(0.3, type="float64"), ibis.literal(0.1, type="float64")
    weight = ibis.ifelse(rows.marks > 0, rows.marks.cast("float64") * milestone, other / rest)
    return rows.mutate(weight=weight)


def weighted_credit(rows: ir.Table) -> ir.Table:
    """Per channel: conversions and revenue from ``weight`` normalised within each conversion.

    Each conversion hands out exactly 1 (and its value) over its touches.
    """
    total = rows.weight.sum().over(group_by=list(JOURNEY_KEYS))
    shares = rows.mutate(share=rows.weight / total)
    return shares.group_by("channel").aggregate(
        conversions=shares.share.sum(), revenue=(shares.share * shares.value).sum()
    )


def _order(rows: ir.Table, *, descending: bool = False) -> list[ir.Value]:
    if descending:
        return [ibis.desc(rows.t), ibis.desc(rows.channel)]
    return [rows.t, rows.channel]


def _last(rows: ir.Table, steps: int) -> ir.Table:
    """Keep each journey's last ``steps`` touches."""
    back = ibis.row_number().over(
        group_by=list(JOURNEY_KEYS), order_by=_order(rows, descending=True)
    )
    ranked = rows.mutate(back=back)
    return ranked.filter(ranked.back < steps).drop("back")


def _drop_direct(rows: ir.Table, direct: Sequence[str]) -> ir.Table:
    """Drop direct touches from journeys that have another touch."""
    is_direct = rows.channel.isin(list(direct))
    others = (~is_direct).cast("int64").sum().over(group_by=list(JOURNEY_KEYS))
    counted = rows.mutate(others=others, is_direct=is_direct)
    return counted.filter(~counted.is_direct | (counted.others == 0)).drop("others", "is_direct")


def _transform(rows: ir.Table, transform: str) -> ir.Table:
    """Apply a path transform and add ``label``, the name a touch has on the path."""
    if transform == "exposure":  # collapse consecutive repeats
        previous = rows.channel.lag().over(group_by=list(JOURNEY_KEYS), order_by=_order(rows))
        marked = rows.mutate(previous=previous)
        kept = marked.filter(marked.previous.isnull() | (marked.previous != marked.channel))
        return kept.drop("previous").mutate(label=kept.channel)
    if transform in ("first", "frequency"):  # first occurrence of each channel
        group = [*JOURNEY_KEYS, "channel"]
        occurrence = ibis.row_number().over(group_by=group, order_by=_order(rows))
        count = rows.channel.count().over(group_by=group)
        marked = rows.mutate(occurrence=occurrence, times=count)
        firsts = marked.filter(marked.occurrence == 0)
        counted = firsts.channel + "(" + firsts.times.cast("string") + ")"
        label = (
            ibis.ifelse(firsts.channel == DIRECT, firsts.channel, counted)
            if transform == "frequency"
            else firsts.channel
        )
        return firsts.mutate(label=label).drop("occurrence", "times")
    return rows.mutate(label=rows.channel)


__all__ = [
    "TOUCHPOINTS",
    "TRANSFORMS",
    "PathOptions",
    "journey_touches",
    "journeys",
    "path_summary",
    "time_decay",
    "touchpoints",
    "w_shaped",
    "weighted_credit",
]
