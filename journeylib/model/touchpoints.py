"""Touches: where each person's sessions came from, the first channel of each session.

Attribution builds its journeys from them; the journey map and personas read a
session's channel from them.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from journeylib.model.events import Events

TOUCHPOINTS = ("session", "event")


def touchpoints(ev: Events, touchpoint: str = "session") -> ir.Table:
    """Touches: ``user_id``, ``session_id``, ``t``, ``channel``; one per session by default.

    A session's touch is its first event with a channel (ties broken by event
    id). Events with a channel and no session are touches of their own.
    """
    t = ev.table
    touched = t.filter([t.channel.notnull(), t.user_id.notnull()])
    if touchpoint == "event":
        return touched.select(
            "user_id", "session_id", t=touched.event_time, channel=touched.channel
        )
    session = ibis.coalesce(touched.session_id, touched.event_id)
    first = ibis.row_number().over(
        group_by=[touched.user_id, session], order_by=[touched.event_time, touched.event_id]
    )
    ranked = touched.mutate(first=first)
    return ranked.filter(ranked.first == 0).select(
        "user_id", "session_id", t=ranked.event_time, channel=ranked.channel
    )


#: what to do when no event says where people came from (every touch is then Direct)
MAP_TRAFFIC = (
    "map the columns that say where people came from when loading (mapping keys channel,"
    " source, medium, campaign; README 'Your own export'), then unload and load the files again"
)
