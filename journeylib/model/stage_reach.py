"""When each person reached each stage of a journey.

The journey map, drop-off and personas all start from it.

A person reaches stage k at their first stage-k event at or after the time they
reached stage k-1 (ties by event id); stage 1 at their first stage-1 event.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from journeylib.core.errors import ParameterError
from journeylib.model.events import Events
from journeylib.model.stages import Stages, require_events, require_stages


def checked_stages(ev: Events, stages: Stages, *, several: bool = False) -> list[str]:
    """The event names in scope, once ``stages`` is known to be good.

    Good: jl.Stages (two or more when ``several``) whose events are not misspelt.
    """
    if not isinstance(stages, Stages) or (several and len(stages) < 2):
        many = " with two or more stages" if several else ""
        raise ParameterError("stages", stages, reason=f"Give jl.Stages{many}.")
    present = ev.event_names()
    require_events(list(stages), present, param="stages", typos_only=True)
    require_stages(ev, stages)
    return present


def stage_reach(ev: Events, stages: Stages) -> ir.Table:
    """When each person reached each stage, in order: ``user_id, stage_index, t, session_id, t_next``.

    Stage k is reached at the first stage-k event at or after stage k-1 was
    reached (ties by event id); ``t_next`` is when the person reached k+1, or null.
    """
    t = ev.table.filter(ev.table.user_id.notnull())
    reached: list[ir.Table] = []
    previous: ir.Table | None = None
    for index, (_, rule) in enumerate(stages.rules(), start=1):
        rows = rule.rows(t)
        if previous is not None:
            rows = rows.join(
                previous, [rows.user_id == previous.user_id, rows.event_time >= previous.t]
            ).select(rows)
        first = ibis.row_number().over(
            group_by=rows.user_id, order_by=[rows.event_time, rows.event_id]
        )
        ranked = rows.mutate(first=first)
        current = ranked.filter(ranked.first == 0).select(
            "user_id",
            stage_index=ibis.literal(index, type="int64"),
            t=ranked.event_time,
            session_id=ranked.session_id,
        )
        reached.append(current)
        previous = current.select("user_id", "t")
    every = ibis.union(*reached, distinct=False)
    following = every.t.lead().over(group_by=every.user_id, order_by=every.stage_index)
    return every.mutate(t_next=following)
