"""SQL pieces shared by the readers: raw lines, raw CSV rows, time parsing.

Paths and time zones are bound as parameters; identifiers go through
:func:`journeylib.sql.ident`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from journeylib.errors import DataError, closest
from journeylib.sql import ident, literal

#: How every CSV export is read: all text (types are checked row by row), the
#: dialect sniffed, RFC 4180 quoting, short rows padded with NULLs.
CSV_OPTIONS = (
    "all_varchar=true, header=true, auto_detect=true, strict_mode=false,"
    " quote='\"', escape='\"', null_padding=true"
)

#: Lines of up to 100 MB are accepted. The buffer size is given explicitly: by
#: default DuckDB makes it 16 times the longest line (1.6 GB), so a whole export
#: fits one buffer and is split by one thread only (5x slower on 2 cores).
LINE_BUFFERS = "max_line_size=100000000, buffer_size=200000000"

#: Matches a timestamp string that carries its own zone (Z or an offset).
ZONED = r"(Z|z|[+-]\d\d(:?\d\d)?|UTC|GMT)$"


def require_file(path: Path) -> None:
    """Raise a DataError unless ``path`` is a readable, non-empty file."""
    if not path.is_file():
        raise DataError("file not found", file=str(path))
    if path.stat().st_size == 0:
        raise DataError("the file is empty: there is nothing to load", file=str(path))


def is_parquet(path: Path) -> bool:
    """Whether ``path`` names a Parquet file (else it is read as text)."""
    return path.name.lower().endswith(".parquet")


def require_columns(mapping: Mapping[str, str], columns: Sequence[str], path: Path) -> None:
    """Raise a DataError naming the first mapped column missing from the file, with the closest one."""
    for canonical, source in mapping.items():
        if source not in columns:
            hint = closest(source, columns)
            raise DataError(
                f"column {source!r} (for {canonical}) is not in the file"
                + (f"; did you mean {hint!r}?" if hint else f"; its columns are {sorted(columns)}"),
                file=str(path),
                field=source,
            )


def json_lines(path: Path) -> tuple[str, list[object]]:
    """A SELECT of ``_row`` and ``_raw`` per line of a JSON-lines file.

    One row per line in file order, ``_row`` NULL: the pipeline numbers them
    (:attr:`Staged.positional_rows`). An empty line has a NULL ``_raw``: it is
    counted, not loaded. Gzipped files (``.gz``) are read as they are.

    Examples
    --------
    >>> sql, params = json_lines(Path("events.ndjson"))
    >>> params
    ['events.ndjson']
    """
    sql = (
        "select null::bigint as _row, nullif(line, '') as _raw"
        " from read_csv(?, columns={'line': 'VARCHAR'}, header=false, delim=e'\\x1e\\x1f',"
        f" quote='', escape='', auto_detect=false, {LINE_BUFFERS})"
    )
    return sql, [str(path)]


def parsed_lines(rows: str, structure: str) -> str:
    """SQL over ``rows`` (``_row``, ``_raw``) adding ``g``: each row parsed once into
    the typed struct ``structure`` (a DuckDB JSON structure), NULL when not JSON."""
    return f"select _row, _raw, try(from_json(_raw, {literal(structure)})) as g from ({rows})"


def rejected_when_not_json(*problems: tuple[str, str, str]) -> str:
    """SQL for the ``_reject_field`` and ``_reject_reason`` of a row ``g`` could not
    parse, or else of the first of ``problems`` (field, SQL condition, SQL reason) that holds."""
    cases = [("line", "g is null", bad_json_reason()), *problems]
    field = " ".join(f"when {condition} then {literal(name)}" for name, condition, _ in cases)
    reason = " ".join(f"when {condition} then {why}" for _, condition, why in cases)
    return f"case {field} end as _reject_field, case {reason} end as _reject_reason"


def bad_json_reason() -> str:
    """SQL for the reason given to a line that is not valid JSON."""
    return literal("not valid JSON (a truncated or corrupted line)")


def parse_time(text: str, tz: str | None) -> tuple[str, list[object]]:
    """SQL turning timestamp text into TIMESTAMPTZ (UTC); naive text is read in ``tz``.

    Returns the expression and its bound parameters. Unparseable text gives NULL.
    """
    zoned = f"regexp_matches(trim({text}), {literal(ZONED)})"
    naive_zone = "?" if tz else "'UTC'"
    expr = (
        f"case when {zoned} then try_cast(trim({text}) as timestamptz)"
        f" else timezone({naive_zone}, try_cast(trim({text}) as timestamp)) end"
    )
    return expr, ([tz] if tz else [])


def is_naive(text: str) -> str:
    """SQL that is true when timestamp text carries no zone."""
    return f"({text} is not null and not regexp_matches(trim({text}), {literal(ZONED)}))"


def epoch_time(number: str, unit: str) -> str:
    """SQL turning an epoch number (``s``, ``ms`` or ``us``) into TIMESTAMPTZ."""
    factor = {"s": "1000000", "ms": "1000", "us": "1"}[unit]
    return f"make_timestamp(cast(try_cast({number} as double) * {factor} as bigint))::timestamptz"


def column(name: str) -> str:
    """A quoted column reference."""
    return ident(name)
