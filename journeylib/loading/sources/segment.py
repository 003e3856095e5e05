"""Segment export (JSON lines of Track, Page, Screen, Identify, Group and Alias calls).

Field mapping, from the Segment Spec:

- ``event_id``: ``messageId``; ``user_id``: ``userId``; ``anonymous_id``: ``anonymousId``;
- ``event_time``: ``timestamp`` (ISO-8601), else ``originalTimestamp``, ``sentAt``,
  ``receivedAt``; a time without a zone is read in ``tz`` (UTC by default);
- ``event_name``: a track call's ``event``; ``page_view`` for page calls (the
  page name stays in properties as ``name``), ``screen_view`` for screen calls,
  and ``identify`` / ``group`` / ``alias`` for those calls (an identify call links
  ``anonymousId`` to ``userId``, which identity stitching uses);
- ``source`` / ``medium`` / ``campaign``: ``context.campaign.source / medium / name``;
- ``revenue``: ``properties.revenue``, else ``properties.total`` (the
  e-commerce spec's "Order Completed");
- ``properties``: the call's ``properties`` at the top level, and every other
  field of the call (``type``, ``context``, ``traits``, ``name``, ``previousId``,
  ``sentAt``...) beside them; nothing is dropped.
"""

from __future__ import annotations

from pathlib import Path

from journeylib.core.engine import Engine
from journeylib.core.sql import literal
from journeylib.loading.sources import ReadOptions, Staged
from journeylib.loading.sources.common import (
    is_naive,
    json_lines,
    number,
    parse_time,
    parsed_lines,
    rejected_when_not_json,
    require_file,
)

_STRUCTURE = (
    '{"type":"VARCHAR","event":"VARCHAR","messageId":"VARCHAR","anonymousId":"VARCHAR",'
    '"userId":"VARCHAR","timestamp":"VARCHAR","originalTimestamp":"VARCHAR","sentAt":"VARCHAR",'
    '"receivedAt":"VARCHAR","properties":{"revenue":"VARCHAR","total":"VARCHAR"},'
    '"context":{"campaign":{"source":"VARCHAR","medium":"VARCHAR","name":"VARCHAR"}}}'
)
#: fields mapped to canonical columns, removed from the rest of the call
_MAPPED = '{"messageId": null, "userId": null, "anonymousId": null, "timestamp": null, "event": null, "properties": null}'


def read(engine: Engine, path: Path, options: ReadOptions) -> Staged:
    """Stage a Segment export.

    Examples
    --------
    >>> import json, tempfile, journeylib as jl
    >>> calls = [{"type": "page", "name": "Home", "anonymousId": "a1", "messageId": "m1",
    ...           "timestamp": "2024-01-01T10:00:00Z"},
    ...          {"type": "identify", "anonymousId": "a1", "userId": "bob", "messageId": "m2",
    ...           "timestamp": "2024-01-01T10:01:00Z", "traits": {"plan": "pro"}}]
    >>> path = Path(tempfile.mkdtemp()) / "segment.jsonl"
    >>> _ = path.write_text("\\n".join(json.dumps(c) for c in calls))
    >>> ws = jl.open()
    >>> ws.load_events(path, source="segment").loaded
    2
    >>> ws.sql("select event_name, user_id from events order by event_time").values.tolist()
    [['page_view', 'bob'], ['identify', 'bob']]
    """
    require_file(path)
    rows, params = json_lines(path)
    stamp = "coalesce(g.timestamp, g.originalTimestamp, g.sentAt, g.receivedAt)"
    event_time, time_params = parse_time(stamp, options.tz)
    name = (
        "case g.type when 'track' then g.event when 'page' then 'page_view'"
        " when 'screen' then 'screen_view' else coalesce(g.event, g.type) end"
    )
    revenue = "coalesce(g.properties.revenue, g.properties.total)"
    properties = (
        f"json_merge_patch(json_merge_patch(_raw, {literal(_MAPPED)}),"
        " coalesce(json_extract(_raw, '$.properties'), '{}'))"
    )
    campaign = "g.context.campaign"
    sql = (
        "select _row, _raw,"
        f" {rejected_when_not_json()},"
        " g.messageId as event_id, g.userId as user_id, g.anonymousId as anonymous_id,"
        f" {event_time} as event_time, {stamp} as _time_raw, {is_naive(stamp)} as _time_naive,"
        f" {name} as event_name, null::varchar as session_id, null::varchar as channel,"
        f" {campaign}.source as source, {campaign}.medium as medium, {campaign}.name as campaign,"
        f" {number(revenue)} as revenue, {revenue} as _revenue_raw,"
        f" case when g is not null then {properties} end as properties"
        f" from ({parsed_lines(rows, _STRUCTURE)})"
    )
    fields = {
        "event_time": "timestamp",
        "event_name": "event",
        "user_id": "userId",
        "revenue": "properties.revenue",
    }
    return Staged(sql, [*time_params, *params], fields, positional_rows=True)
