"""Mapped CSV exports with typed fields: the shared reader of CRM, spend and feedback files.

Each loader declares its canonical fields (name, type, required) and a default
mapping from canonical name to the export's column; the user's mapping
overrides it. Every column is read as text and converted with ``try_cast``, so
a bad value rejects its row (naming the export's column and the value) instead
of failing the file. Unmapped columns go to ``properties``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from journeylib.core.engine import Engine
from journeylib.core.errors import DataError, ParameterError
from journeylib.core.sql import ident, literal
from journeylib.loading import layout
from journeylib.loading.pipeline import Check
from journeylib.loading.sources import Staged
from journeylib.loading.sources.common import (
    CSV_OPTIONS,
    is_naive,
    number,
    parse_time,
    require_columns,
    require_file,
    require_plain_names,
    unmapped,
    zone_problem,
)

KINDS = ("text", "time", "date", "number")


@dataclass(frozen=True)
class Field:
    """A canonical field of a companion table."""

    name: str
    kind: str = "text"
    required: bool = False


def header(engine: Engine, path: Path) -> list[str]:
    """The CSV file's column names, in order."""
    require_file(path)
    try:
        rows = engine.rows(
            f"describe select * from read_csv(?, {CSV_OPTIONS}) limit 0", [str(path)]
        )
    except Exception as err:  # the reader could not make sense of the file at all
        raise DataError(f"cannot read the file as CSV: {err}", file=str(path)) from None
    names = [str(row[0]) for row in rows]
    require_plain_names(names, path)
    return names


def stage(
    engine: Engine,
    path: Path,
    fields: Sequence[Field],
    defaults: Mapping[str, str],
    mapping: Mapping[str, str] | None = None,
    *,
    tz: str | None = None,
    derived: Mapping[str, str] | None = None,
) -> tuple[Staged, list[Check]]:
    """The staged SELECT and row checks for a mapped CSV export.

    ``defaults`` map canonical fields to the export's usual column names (used
    when present in the file); ``mapping`` overrides them. ``derived`` gives
    SQL for fields computed from other columns (see :func:`column`).
    """
    columns = header(engine, path)
    known = {f.name for f in fields}
    for canonical in mapping or {}:
        if canonical not in known:
            raise ParameterError("mapping", canonical, allowed=sorted(known))
    mapping = {k: v for k, v in defaults.items() if v in columns} | dict(mapping or {})
    require_columns(mapping, columns, path)
    for field in fields:
        if field.required and field.name not in mapping and field.name not in (derived or {}):
            raise unmapped(field.name, columns, path)
    selects, checks, params = [], [], []
    for field in fields:
        if derived and field.name in derived:
            selects.append(f"{derived[field.name]} as {ident(field.name)}")
            continue
        raw = column(mapping[field.name]) if field.name in mapping else "null::varchar"
        label = mapping.get(field.name, field.name)
        typed, typed_params = _typed(raw, field.kind, tz)
        params += typed_params
        selects.append(f"{typed} as {ident(field.name)}, {raw} as {ident('_raw_' + field.name)}")
        text = ident("_raw_" + field.name)
        if field.required:
            checks.append(
                Check(label, f"coalesce(trim({text}), '') = ''", literal(f"missing {field.name}"))
            )
        if field.kind == "time":
            condition, reason = zone_problem(text)
            checks.append(Check(label, f"{ident(field.name)} is null and {condition}", reason))
        if field.kind != "text":
            checks.append(
                Check(
                    label,
                    f"{ident(field.name)} is null and trim(coalesce({text}, '')) <> ''",
                    literal(f"not a valid {_NOUN[field.kind]}: ") + f" || {text}",
                )
            )
        if field.kind == "time":
            selects.append(f"{is_naive(raw)} as {ident('_naive_' + field.name)}")
    rest = [c for c in columns if c not in set(mapping.values())]
    properties = (
        "json_object(" + ", ".join(f"{literal(c)}, {column(c)}" for c in rest) + ")"
        if rest
        else "'{}'::json"
    )
    sql = (
        "select null::bigint as _row, to_json(t)::varchar as _raw,"
        " null::varchar as _reject_field, null::varchar as _reject_reason, "
        + ", ".join(selects)
        + f", {properties} as properties from read_csv(?, {CSV_OPTIONS}) t"
    )
    return Staged(sql, [*params, str(path)], dict(mapping), positional_rows=True), checks


def column(name: str) -> str:
    """A reference to an export column inside :func:`stage`'s SELECT."""
    return f"t.{ident(name)}"


_NOUN = {"time": "timestamp", "date": "date", "number": "number"}


def _typed(raw: str, kind: str, tz: str | None) -> tuple[str, list[object]]:
    if kind == "time":
        return parse_time(raw, tz)
    if kind == "date":
        return f"try_cast(trim({raw}) as date)", []
    if kind == "number":
        return number(f"replace(trim({raw}), ',', '')"), []
    return f"nullif(trim({raw}), '')", []


def naive_notes(engine: Engine, fields: Sequence[Field], tz: str | None) -> list[str]:
    """Notes on time fields written without a zone (read in ``tz``, or UTC)."""
    notes = []
    for field in fields:
        if field.kind != "time":
            continue
        count = engine.scalar(
            f"select count(*) from _checked where _reason is null and {ident('_naive_' + field.name)}"
        )
        if count:
            zone = tz or "UTC"
            notes.append(f"{count} {field.name} values had no time zone and were read as {zone}")
    return notes


def insert_events(engine: Engine, select: str, origin: str) -> None:
    """Add companion rows to ``events`` as well (skipping ids already there).

    ``select`` yields event_id, user_id, event_time, event_name, session_id,
    revenue and properties.
    """
    layout.insert(
        engine,
        "select event_id, user_id, event_time, event_name, session_id, revenue, properties,"
        f" {literal(origin)} as origin from ({select}) s where event_time is not null"
        " and not exists (select 1 from events e where e.event_id = s.event_id)",
    )
