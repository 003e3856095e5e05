"""Generic CSV or Parquet events with a column mapping (canonical -> file column).

Columns not mapped to a canonical column are kept in ``properties``.
Without a mapping, columns named like the canonical ones are taken as they are.
"""

from __future__ import annotations

from pathlib import Path

from journeylib.core.engine import Engine
from journeylib.core.errors import DataError, ParameterError
from journeylib.core.schema import EVENT_COLUMNS
from journeylib.core.sql import ident, literal
from journeylib.loading.sources import ReadOptions, Staged
from journeylib.loading.sources.common import (
    CSV_OPTIONS,
    is_naive,
    is_parquet,
    number,
    parse_time,
    require_columns,
    require_file,
    require_plain_names,
    unmapped,
)

MAPPABLE = [c for c in EVENT_COLUMNS if c not in {"properties", "origin"}]


def file_columns(engine: Engine, path: Path, delimiter: str | None = None) -> dict[str, str]:
    """The file's columns and their types (CSV columns are all text)."""
    relation = _relation(path, delimiter)
    rows = engine.rows(f"describe select * from {relation[0]} limit 0", relation[1])
    return {str(row[0]): str(row[1]) for row in rows}


def _relation(path: Path, delimiter: str | None) -> tuple[str, list[object]]:
    """The file as a relation ``t``: Parquet, or CSV with its delimiter sniffed unless given."""
    if is_parquet(path):
        return "read_parquet(?) t", [str(path)]
    if delimiter is None:
        return f"read_csv(?, {CSV_OPTIONS}) t", [str(path)]
    return f"read_csv(?, {CSV_OPTIONS}, delim=?) t", [str(path), delimiter]


def read(engine: Engine, path: Path, options: ReadOptions) -> Staged:
    """Stage a generic CSV/Parquet export.

    Examples
    --------
    >>> import tempfile, journeylib as jl
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "e.csv").write_text("uid,event,ts,price\\nu1,view,2024-01-01T10:00:00Z,9.5\\n")
    >>> ws = jl.open()
    >>> ws.load_events(folder / "e.csv", mapping={"user_id": "uid", "event_name": "event",
    ...                "event_time": "ts"}).loaded
    1
    >>> ws.sql("select properties.price::varchar from events").iloc[0, 0]
    '9.5'
    """
    require_file(path)
    for key in options.mapping:
        if key not in MAPPABLE:
            raise ParameterError("mapping", key, allowed=MAPPABLE)
    try:
        columns = file_columns(engine, path, options.delimiter)
    except Exception as err:  # the engine's reader could not parse the file at all
        raise DataError(f"cannot read the file: {err}", file=str(path)) from None
    require_plain_names(list(columns), path)
    mapping = {c: c for c in MAPPABLE if c in columns}
    mapping.update(options.mapping)
    require_columns(mapping, list(columns), path)
    for required in ("event_name", "event_time"):
        if required not in mapping:
            raise unmapped(required, list(columns), path)
    if "user_id" not in mapping and "anonymous_id" not in mapping:
        raise unmapped("user_id", list(columns), path)

    def text(canonical: str) -> str:
        return f"cast(t.{ident(mapping[canonical])} as varchar)" if canonical in mapping else "null"

    params: list[object] = []
    time_type = columns[mapping["event_time"]].upper()
    if time_type.startswith("TIMESTAMP WITH TIME ZONE"):
        time_sql, naive = f"t.{ident(mapping['event_time'])}", "false"
    elif time_type.startswith("TIMESTAMP"):
        zone = "?" if options.tz else "'UTC'"
        params += [options.tz] if options.tz else []
        time_sql, naive = f"timezone({zone}, t.{ident(mapping['event_time'])})", "true"
    else:
        time_sql, time_params = parse_time(text("event_time"), options.tz)
        params += time_params
        naive = is_naive(text("event_time"))
    mapped = set(mapping.values())
    rest = [c for c in columns if c not in mapped and c != "properties"]
    properties = (
        "json_object(" + ", ".join(f"{literal(c)}, t.{ident(c)}" for c in rest) + ")"
        if rest
        else "'{}'::json"
    )
    reject_field, reject_reason = "null::varchar", "null::varchar"
    if "properties" in columns and "properties" not in mapped:
        # a canonical export's own JSON properties: kept, with other columns merged in
        own = "cast(t.properties as varchar)"
        if rest:
            properties = f"json_merge_patch(case when json_valid({own}) then {own} else '{{}}' end, {properties})"
        else:
            # what json_merge_patch(own, '{}') gives (the object re-serialised, anything
            # else '{}'), for half its cost: one parse instead of two and no merge
            properties = (
                f"case when json_valid({own}) and ltrim({own}, e' \\t\\n\\r') like '{{%'"
                f" then json({own}) else '{{}}'::json end"
            )
        reject_field = (
            f"case when {own} is not null and not json_valid({own}) then 'properties' end"
        )
        reject_reason = (
            f"case when {own} is not null and not json_valid({own}) then 'not a JSON object' end"
        )
    relation, relation_params = _relation(path, options.delimiter)
    row = "null::bigint"  # numbered by the pipeline (positional_rows)
    if is_parquet(path):  # the reader's own row number: no ordered window needed
        relation = relation.replace("read_parquet(?)", "read_parquet(?, file_row_number=true)")
        row = "file_row_number + 1"
    raw = "json_object(" + ", ".join(f"{literal(c)}, t.{ident(c)}" for c in columns) + ")::varchar"
    revenue = number(text("revenue"))
    # the raw texts of time and revenue are only needed (and only computed) for failing rows
    sql = (
        f"select {row} as _row, {raw} as _raw,"
        f" {reject_field} as _reject_field, {reject_reason} as _reject_reason,"
        f" {text('event_id')} as event_id, {text('user_id')} as user_id,"
        f" {text('anonymous_id')} as anonymous_id, {time_sql} as event_time,"
        f" case when ({time_sql}) is null then {text('event_time')} end as _time_raw,"
        f" {naive} as _time_naive,"
        f" {text('event_name')} as event_name, {text('session_id')} as session_id,"
        f" {text('channel')} as channel, {text('source')} as source, {text('medium')} as medium,"
        f" {text('campaign')} as campaign, {revenue} as revenue,"
        f" case when {revenue} is null then {text('revenue')} end as _revenue_raw,"
        f" {properties} as properties"
        f" from {relation}"
    )
    # time_sql appears twice (value and raw text), so its parameters are bound twice
    return Staged(
        sql,
        [*params, *params, *relation_params],
        dict(mapping),
        rereadable=is_parquet(path),
        positional_rows=not is_parquet(path),
    )
