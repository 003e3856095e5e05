"""Mixpanel raw export (NDJSON, one ``{"event": ..., "properties": {...}}`` per line).

Field mapping, from Mixpanel's export documentation:

- ``event_time``: ``properties.time``, seconds since the epoch (UTC); values
  above 1e11 are milliseconds (newer exports);
- ``event_name``: ``event``; ``event_id``: ``properties.$insert_id`` (Mixpanel's
  own dedupe key), else a hash;
- ``user_id``: ``properties.$user_id``, else ``distinct_id`` unless it is a device
  id (``$device:`` prefix, or equal to ``$device_id``);
  ``anonymous_id``: ``properties.$device_id``, else such a device ``distinct_id``
  without its prefix;
- ``source`` / ``medium`` / ``campaign``: ``utm_source`` / ``utm_medium`` / ``utm_campaign``;
- ``revenue``: ``properties.revenue``, else ``properties.amount``
  (Mixpanel has no reserved revenue property: these are the common names);
- ``properties``: all of the event's properties, nothing dropped.
"""

from __future__ import annotations

from pathlib import Path

from journeylib.core.engine import Engine
from journeylib.loading.sources import ReadOptions, Staged
from journeylib.loading.sources.common import (
    epoch_time,
    json_lines,
    number,
    parsed_lines,
    rejected_when_not_json,
    require_file,
)

_STRUCTURE = (
    '{"event":"VARCHAR","properties":{"time":"VARCHAR","distinct_id":"VARCHAR",'
    '"$insert_id":"VARCHAR","$user_id":"VARCHAR","$device_id":"VARCHAR","utm_source":"VARCHAR",'
    '"utm_medium":"VARCHAR","utm_campaign":"VARCHAR","revenue":"VARCHAR","amount":"VARCHAR"}}'
)


def read(engine: Engine, path: Path, options: ReadOptions) -> Staged:
    """Stage a Mixpanel export.

    Examples
    --------
    >>> import json, tempfile, journeylib as jl
    >>> line = {"event": "Signed Up", "properties": {"time": 1704103200, "distinct_id": "$device:abc",
    ...         "$device_id": "abc", "$insert_id": "i1", "utm_source": "google", "utm_medium": "cpc"}}
    >>> path = Path(tempfile.mkdtemp()) / "mixpanel.ndjson"
    >>> _ = path.write_text(json.dumps(line))
    >>> ws = jl.open()
    >>> ws.load_events(path, source="mixpanel").loaded
    1
    >>> ws.sql("select event_id, user_id, channel from events").values.tolist()
    [['i1', 'abc', 'Paid Search']]
    """
    require_file(path)
    rows, params = json_lines(path)
    p = "g.properties"
    distinct = f"{p}.distinct_id"
    is_device = f"({distinct} like '$device:%' or coalesce({distinct} = {p}.\"$device_id\", false))"
    seconds = (
        f"case when try_cast({p}.time as double) > 1e11 then try_cast({p}.time as double) / 1000"
        f" else try_cast({p}.time as double) end"
    )
    revenue = f"coalesce({p}.revenue, {p}.amount)"
    sql = (
        f"select _row, _raw, {rejected_when_not_json()},"
        f' {p}."$insert_id" as event_id,'
        f' coalesce({p}."$user_id", case when not {is_device} then {distinct} end) as user_id,'
        f" coalesce({p}.\"$device_id\", case when {distinct} like '$device:%'"
        f" then substr({distinct}, 9) end) as anonymous_id,"
        f" {epoch_time(seconds, 's')} as event_time, {p}.time as _time_raw, false as _time_naive,"
        " g.event as event_name, null::varchar as session_id, null::varchar as channel,"
        f" {p}.utm_source as source, {p}.utm_medium as medium, {p}.utm_campaign as campaign,"
        f" {number(revenue)} as revenue, {revenue} as _revenue_raw,"
        " case when g is not null then coalesce(json_extract(_raw, '$.properties'), '{}') end as properties"
        f" from ({parsed_lines(rows, _STRUCTURE)})"
    )
    fields = {
        "event_time": "properties.time",
        "event_name": "event",
        "user_id": "distinct_id",
        "revenue": "revenue",
    }
    return Staged(sql, params, fields, positional_rows=True)
