"""GA4 BigQuery export (``events_YYYYMMDD``), as NDJSON (optionally gzipped) or Parquet.

Field mapping, from Google's documented export schema:

- ``event_time``: ``event_timestamp`` (microseconds since the epoch, UTC;
  BigQuery's JSON export writes INT64 as a string, both are accepted);
- ``event_name``: ``event_name``; ``user_id``: ``user_id`` (may be null);
  ``anonymous_id``: ``user_pseudo_id``;
- ``session_id``: ``user_pseudo_id:ga_session_id`` (the ``ga_session_id``
  event parameter is unique per device only);
- ``source`` / ``medium`` / ``campaign``: the event's own
  ``collected_traffic_source.manual_*``, else the ``source``/``medium``/
  ``campaign`` event parameters, else
  ``session_traffic_source_last_click.manual_campaign.*``, else
  ``google``/``cpc`` when the event carries a ``gclid`` (as GA4 does);
- ``revenue``: ``ecommerce.purchase_revenue``, else ``event_value_in_usd``;
- ``event_id``: none in GA4: the pipeline hashes source, user, time, name and
  properties;
- ``properties``: the whole row (device, geo, app_info, platform,
  stream_id, ``traffic_source`` (the user's first touch), items, ecommerce,
  event_date, ...), with ``event_params`` flattened to ``key: typed value``
  at the top level (whichever of string/int/float/double value is set; an
  int stays a JSON number) and ``user_properties`` flattened the same way
  into an object. A parameter named like a top-level field replaces it.

Rejected rows: a line that is not JSON (field ``line``); a key missing or
given twice in ``event_params`` or ``user_properties`` (that field); an
``event_timestamp`` missing or not a number (field ``event_timestamp``, via
the pipeline's time check); a missing ``event_name``. GA4 times are UTC, so
no time zone applies. The file kind is chosen by extension: ``.parquet``
(GA4's nested STRUCT/LIST types) or else NDJSON, ``.gz`` read as it is.
"""

from __future__ import annotations

from pathlib import Path

from journeylib.core.engine import Engine
from journeylib.core.sql import literal
from journeylib.loading.sources import ReadOptions, Staged
from journeylib.loading.sources.common import (
    finite,
    is_parquet,
    json_lines,
    parsed_lines,
    rejected_when_not_json,
    require_file,
)

#: the event's revenue: GA4's purchase revenue, else its value in USD
_REVENUE = "coalesce(g.ecommerce.purchase_revenue, g.event_value_in_usd)"

_KEY_VALUES = (
    '[{"key":"VARCHAR","value":{"string_value":"VARCHAR","int_value":"VARCHAR",'
    '"float_value":"DOUBLE","double_value":"DOUBLE"}}]'
)
#: the fields journeylib reads, parsed once per row (everything else stays in properties)
_STRUCTURE = (
    '{"event_timestamp":"VARCHAR","event_name":"VARCHAR","user_id":"VARCHAR",'
    f'"user_pseudo_id":"VARCHAR","event_params":{_KEY_VALUES},"user_properties":{_KEY_VALUES},'
    '"collected_traffic_source":{"manual_source":"VARCHAR","manual_medium":"VARCHAR",'
    '"manual_campaign_name":"VARCHAR","gclid":"VARCHAR"},'
    '"session_traffic_source_last_click":{"manual_campaign":{"source":"VARCHAR",'
    '"medium":"VARCHAR","campaign_name":"VARCHAR"}},'
    '"ecommerce":{"purchase_revenue":"DOUBLE"},"event_value_in_usd":"DOUBLE"}'
)


def _flatten(params: str) -> str:
    """SQL: the text of a JSON object of a GA4 key/value list's typed values.

    A parameter without a value is left out. Written as text (four times
    cheaper than a MAP turned into JSON): ``json_merge_patch`` reads it, so
    only its values matter, not its spacing or number format.
    """
    value = (
        "coalesce(to_json(p.value.string_value), cast(try_cast(p.value.int_value as bigint) as varchar),"
        " to_json(p.value.float_value), to_json(p.value.double_value))"
    )
    pairs = f"list_transform({params}, lambda p: to_json(p.key) || ':' || {value})"
    return f"coalesce('{{' || array_to_string({pairs}, ',') || '}}', '{{}}')"


def _bad_keys(field: str) -> tuple[str, str, str]:
    """A reader check: a key/value list with a key missing or given twice.

    Such a row cannot become one JSON object of parameters, so it is rejected
    with the key named.
    """
    keys = f"list_transform(g.{field}, lambda p: p.key)"
    repeated = f"list_filter({keys}, lambda k, i: list_position({keys}, k) < i)[1]"
    reason = (
        f"case when list_position({keys}, null) > 0 then 'a parameter has no key'"
        f" else 'parameter ' || to_json({repeated}) || ' is given more than once' end"
    )
    return field, f"list_unique({keys}) <> len(g.{field})", reason


def _param(key: str) -> str:
    """SQL: the text value of the event parameter ``key`` (NULL when absent).

    Looked up in the list (several times cheaper than building a MAP of every
    parameter per row); a row with a key given twice is rejected (:func:`_bad_keys`).
    """
    value = (
        "coalesce(p.value.string_value, p.value.int_value,"
        " cast(p.value.double_value as varchar), cast(p.value.float_value as varchar))"
    )
    return (
        f"list_transform(list_filter(g.event_params, lambda p: p.key = {literal(key)}),"
        f" lambda p: {value})[1]"
    )


def _rows(path: Path) -> tuple[str, list[object]]:
    """``_row`` and ``_raw`` (the row as JSON text) of an NDJSON or Parquet export."""
    if is_parquet(path):
        return (
            "select file_row_number + 1 as _row,"
            " json_merge_patch(to_json(t), '{\"file_row_number\": null}')::varchar as _raw"
            " from read_parquet(?, file_row_number=true) t",
            [str(path)],
        )
    sql, params = json_lines(path)
    return f"select _row, _raw from ({sql})", params


def read(engine: Engine, path: Path, options: ReadOptions) -> Staged:
    """Stage a GA4 export.

    Examples
    --------
    >>> import gzip, json, tempfile, journeylib as jl
    >>> row = {"event_timestamp": "1704103200000000", "event_name": "page_view",
    ...        "user_pseudo_id": "d1", "event_params": [
    ...            {"key": "ga_session_id", "value": {"int_value": "77"}}]}
    >>> path = Path(tempfile.mkdtemp()) / "events_20240101.ndjson.gz"
    >>> _ = path.write_bytes(gzip.compress(json.dumps(row).encode()))
    >>> ws = jl.open()
    >>> ws.load_events(path, source="ga4").loaded
    1
    >>> ws.sql("select session_id, event_time from events").iloc[0].tolist()
    ['d1:77', Timestamp('2024-01-01 10:00:00+0000', tz='UTC')]
    """
    require_file(path)
    rows, params = _rows(path)
    traffic = "g.collected_traffic_source"
    last_click = "g.session_traffic_source_last_click.manual_campaign"
    gclid = f"{traffic}.gclid is not null"
    source = f"coalesce({traffic}.manual_source, {_param('source')}, {last_click}.source, case when {gclid} then 'google' end)"
    medium = f"coalesce({traffic}.manual_medium, {_param('medium')}, {last_click}.medium, case when {gclid} then 'cpc' end)"
    campaign = f"coalesce({traffic}.manual_campaign_name, {_param('campaign')}, {last_click}.campaign_name)"
    event_time = "make_timestamp(try_cast(g.event_timestamp as bigint))::timestamptz"
    # Two patches in turn: the first drops event_params and flattens
    # user_properties, the second adds the parameters (none without a value, so
    # it never removes a field): the object json_merge_patch(_raw,
    # json_merge_patch(first, second)) gave, without building the first as JSON.
    properties = (
        f"""json_merge_patch(_raw, '{{"event_params":null,"user_properties":' ||"""
        f" {_flatten('g.user_properties')} || '}}', {_flatten('g.event_params')})"
    )
    sql = (
        "select _row, _raw,"
        f" {rejected_when_not_json(_bad_keys('event_params'), _bad_keys('user_properties'))},"
        " null::varchar as event_id, g.user_id as user_id, g.user_pseudo_id as anonymous_id,"
        f" {event_time} as event_time,"
        f" case when {event_time} is null then g.event_timestamp end as _time_raw, false as _time_naive,"
        " g.event_name as event_name,"
        f" g.user_pseudo_id || ':' || {_param('ga_session_id')} as session_id,"
        f" null::varchar as channel, {source} as source, {medium} as medium, {campaign} as campaign,"
        f" {finite(_REVENUE)} as revenue,"
        f" case when not isfinite({_REVENUE}) then cast({_REVENUE} as varchar) end as _revenue_raw,"
        f" case when g is not null then {properties} end as properties"
        f" from ({parsed_lines(rows, _STRUCTURE)})"
    )
    fields = {
        "event_time": "event_timestamp",
        "event_name": "event_name",
        "user_id": "user_pseudo_id",
    }
    return Staged(sql, params, fields, positional_rows=not is_parquet(path))
