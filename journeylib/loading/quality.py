"""Data quality of a workspace: what loaded, what was rejected and why, what is missing.

``jl.data_quality(ws)`` returns a :class:`~journeylib.display.result.Result` whose
table has one row per check (check, value, detail); its extras hold the
rejected rows grouped by file, field and reason, and the events per day.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis
import pandas as pd

from journeylib.core.sql import SQL
from journeylib.display.result import Result, lazy_chart
from journeylib.model.touchpoints import MAP_TRAFFIC

if TYPE_CHECKING:
    from journeylib.loading.workspace import Workspace

#: the data-quality detail when no event says where people came from
DIRECT_WARNING = (
    "every event lacks a source, medium, campaign and channel, so every touch is Direct and"
    f" attribution can credit nothing else: {MAP_TRAFFIC}"
)
#: canonical columns that every row should fill; a gap here is worth a look
EXPECTED = ["user_id", "event_time", "event_name", "session_id", "channel"]


def data_quality(ws: Workspace) -> Result:
    """Checks over the whole workspace: completeness, rejects, duplicates, time range.

    Examples
    --------
    >>> import journeylib as jl
    >>> data_quality(jl.open()).table.check.tolist()[:3]
    ['events', 'users', 'anonymous_only_events']
    """
    con = ws.engine.ibis
    events = con.table("events")
    completeness = events.aggregate(
        events=events.count(),
        users=events.user_id.nunique(),
        anonymous_only=(events.user_id == events.anonymous_id).sum(),
        first_event=events.event_time.min(),
        last_event=events.event_time.max(),
        **{f"filled_{c}": events[c].notnull().mean() for c in EXPECTED},
        unassigned_channel=(events.channel == "Unassigned").mean(),
        direct_by_default=(
            (events.channel == "Direct")
            & events.source.isnull()
            & events.medium.isnull()
            & events.campaign.isnull()
        ).mean(),
    )
    loads = con.table("loads")
    ledger = loads.aggregate(
        files=loads.count(), duplicates=loads.duplicates.sum(), rejected=loads.rejected.sum()
    )
    rejected = con.table("rejected")
    by_reason = (
        rejected.group_by(["origin", "field", "reason"])
        .aggregate(rows=rejected.count(), first_row=rejected.row.min())
        .order_by([ibis.desc("rows"), "origin", "field"])
    )
    per_day = (
        events.group_by(day=events.event_time.truncate("D"))
        .aggregate(events=events.count(), users=events.user_id.nunique())
        .order_by("day")
    )
    facts = ws.engine.run(completeness, what="data quality").iloc[0]
    files = ws.engine.run(ledger, what="data quality").iloc[0]
    table = pd.DataFrame(
        [
            ("events", float(facts["events"]), "rows in events"),
            ("users", float(facts["users"]), "distinct people after identity stitching"),
            (
                "anonymous_only_events",
                float(facts["anonymous_only"] or 0),
                "events of devices that never identified",
            ),
            ("files_loaded", float(files["files"]), "files in the loads ledger"),
            (
                "duplicates_skipped",
                float(files["duplicates"] or 0),
                "rows skipped as already loaded",
            ),
            ("rows_rejected", float(files["rejected"] or 0), "rows kept aside in `rejected`"),
            *[
                (f"filled_{c}", float(facts[f"filled_{c}"] or 0), f"share of events with {c}")
                for c in EXPECTED
            ],
            (
                "unassigned_channel",
                float(facts["unassigned_channel"] or 0),
                "share of events no channel rule matched",
            ),
            (
                "direct_by_default",
                float(facts["direct_by_default"] or 0),
                DIRECT_WARNING
                if facts["direct_by_default"] == 1
                else "share of events counted as Direct for want of a source, medium, campaign"
                " or channel",
            ),
        ],
        columns=["check", "value", "detail"],
    )
    return Result(
        "Data quality",
        table,
        SQL.of(completeness),
        {"first_event": str(facts["first_event"]), "last_event": str(facts["last_event"])},
        draw=lazy_chart("quality", "events_per_day_chart"),
        extras={
            "rejected_by_reason": ws.engine.run(by_reason, what="data quality"),
            "events_per_day": ws.engine.run(per_day, what="data quality"),
        },
    )


__all__ = ["data_quality"]
