"""Amplitude export (the Export API's gzipped JSON lines, one event per line).

Field mapping, from Amplitude's export documentation:

- ``event_id``: ``uuid``, else ``$insert_id``, else a hash;
- ``event_name``: ``event_type``;
- ``event_time``: ``event_time`` (``2024-01-01 12:34:56.789000``, documented as
  UTC, so not reported as a naive time), else ``client_event_time``;
- ``user_id``: ``user_id``; ``anonymous_id``: ``device_id``;
- ``session_id``: ``<user_id or device_id>:<session_id>`` when ``session_id`` is
  set and not -1 (Amplitude's "no session");
- ``source`` / ``medium`` / ``campaign``: ``utm_source`` / ``utm_medium`` /
  ``utm_campaign`` from ``event_properties``, else ``user_properties``
  (where Amplitude's attribution tracking puts them);
- ``revenue``: ``revenue``, else ``event_properties.$revenue``, else
  ``price`` x ``quantity`` (``quantity`` 1 when absent);
- ``properties``: ``event_properties`` at the top level, and every other field
  (``user_properties``, platform, os, country, ``amplitude_id``...) beside them.
"""

from __future__ import annotations

from pathlib import Path

from journeylib.core.engine import Engine
from journeylib.loading.sources import ReadOptions, Staged
from journeylib.loading.sources.common import (
    json_lines,
    number,
    parse_time,
    parsed_lines,
    rejected_when_not_json,
    require_file,
)

_UTM = (
    '{"utm_source":"VARCHAR","utm_medium":"VARCHAR","utm_campaign":"VARCHAR","$revenue":"VARCHAR"}'
)
_STRUCTURE = (
    '{"uuid":"VARCHAR","$insert_id":"VARCHAR","event_type":"VARCHAR","event_time":"VARCHAR",'
    '"client_event_time":"VARCHAR","user_id":"VARCHAR","device_id":"VARCHAR","session_id":"VARCHAR",'
    f'"revenue":"VARCHAR","price":"VARCHAR","quantity":"VARCHAR","event_properties":{_UTM},'
    f'"user_properties":{_UTM}}}'
)
_MAPPED = '{"uuid": null, "event_type": null, "event_time": null, "user_id": null, "device_id": null, "event_properties": null}'


def read(engine: Engine, path: Path, options: ReadOptions) -> Staged:
    """Stage an Amplitude export.

    Examples
    --------
    >>> import gzip, json, tempfile, journeylib as jl
    >>> line = {"uuid": "u-1", "event_type": "Purchase", "event_time": "2024-01-01 10:00:00.000000",
    ...         "device_id": "dev", "user_id": "ann", "session_id": 1704103200000, "revenue": 12.5}
    >>> path = Path(tempfile.mkdtemp()) / "export.json.gz"
    >>> _ = path.write_bytes(gzip.compress(json.dumps(line).encode()))
    >>> ws = jl.open()
    >>> ws.load_events(path, source="amplitude").loaded
    1
    >>> ws.sql("select session_id, revenue from events").values.tolist()
    [['ann:1704103200000', 12.5]]
    """
    require_file(path)
    rows, params = json_lines(path)
    stamp = "coalesce(g.event_time, g.client_event_time)"
    event_time, time_params = parse_time(stamp, None)  # documented as UTC
    revenue = (
        'coalesce(g.revenue, g.event_properties."$revenue",'
        " cast(try_cast(g.price as double) * coalesce(try_cast(g.quantity as double), 1) as varchar))"
    )

    def utm(key: str) -> str:
        return f"coalesce(g.event_properties.{key}, g.user_properties.{key})"

    session = "case when g.session_id is not null and g.session_id <> '-1' then coalesce(g.user_id, g.device_id) || ':' || g.session_id end"
    properties = (
        f"json_merge_patch(json_merge_patch(_raw, '{_MAPPED}'),"
        " coalesce(json_extract(_raw, '$.event_properties'), '{}'))"
    )
    sql = (
        f"select _row, _raw, {rejected_when_not_json()},"
        ' coalesce(g.uuid, g."$insert_id") as event_id, g.user_id as user_id,'
        f" g.device_id as anonymous_id, {event_time} as event_time, {stamp} as _time_raw,"
        f" false as _time_naive, g.event_type as event_name, {session} as session_id,"
        f" null::varchar as channel, {utm('utm_source')} as source, {utm('utm_medium')} as medium,"
        f" {utm('utm_campaign')} as campaign,"
        f" {number(revenue)} as revenue, {revenue} as _revenue_raw,"
        f" case when g is not null then {properties} end as properties"
        f" from ({parsed_lines(rows, _STRUCTURE)})"
    )
    fields = {
        "event_time": "event_time",
        "event_name": "event_type",
        "user_id": "user_id",
        "revenue": "revenue",
    }
    return Staged(sql, [*time_params, *params], fields, positional_rows=True)
