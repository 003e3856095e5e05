"""SQL pieces shared by the readers: raw lines, raw CSV rows, time parsing.

Paths and time zones are bound as parameters; identifiers go through
:func:`journeylib.core.sql.ident`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from journeylib.core.errors import DataError, closest
from journeylib.core.sql import ident, literal

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

#: Matches a timestamp string ending in a zone name: an IANA name
#: (``America/New_York``) or an abbreviation (``EST``). ``AM``/``PM`` are not zones.
ZONE_NAMED = r"\s([A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*)$"
_AM_PM = r"(?i)\s[ap]\.?m\.?$"

#: A timestamp written without a zone: an ISO date, optionally a time. DuckDB's
#: cast ignores trailing text ("10:00 PM" would read as 10:00), so nothing else
#: is cast as a naive time.
NAIVE = r"\d{4}-\d{1,2}-\d{1,2}([T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?"
#: ... or one on a 12-hour clock.
TWELVE_HOUR = [
    "%Y-%m-%d %I:%M:%S %p",
    "%Y-%m-%d %I:%M %p",
    "%Y-%m-%dT%I:%M:%S %p",
    "%Y-%m-%dT%I:%M %p",
]

#: Time-zone abbreviations read as their UTC offsets: those of North America,
#: Europe, and a few of Asia and Oceania that have one meaning. Abbreviations
#: with several (CST: US Central or China; IST: India, Ireland or Israel; BST:
#: British Summer or Bangladesh; AST: Atlantic or Arabia) are not guessed: such
#: rows are rejected, asking for an offset or an IANA name.
ZONE_ABBREVIATIONS = {
    "EST": "-05:00",
    "EDT": "-04:00",
    "CDT": "-05:00",
    "MST": "-07:00",
    "MDT": "-06:00",
    "PST": "-08:00",
    "PDT": "-07:00",
    "AKST": "-09:00",
    "AKDT": "-08:00",
    "HST": "-10:00",
    "WET": "+00:00",
    "WEST": "+01:00",
    "CET": "+01:00",
    "CEST": "+02:00",
    "EET": "+02:00",
    "EEST": "+03:00",
    "MSK": "+03:00",
    "JST": "+09:00",
    "KST": "+09:00",
    "HKT": "+08:00",
    "SGT": "+08:00",
    "AWST": "+08:00",
    "ACST": "+09:30",
    "ACDT": "+10:30",
    "AEST": "+10:00",
    "AEDT": "+11:00",
    "NZST": "+12:00",
    "NZDT": "+13:00",
}


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


def unmapped(field: str, columns: Sequence[str], path: Path) -> DataError:
    """The error for a required field no column of the file maps to, in Python's and the CLI's words.

    Examples
    --------
    >>> err = unmapped("event_time", ["user_id", "event", "timestamp"], Path("e.csv"))
    >>> str(err)
    "e.csv, field event_time: no column for event_time among the file's columns (user_id, event, timestamp): map one with mapping={'event_time': 'timestamp'}"
    >>> err.cli_message.split(": ", 2)[2]
    "map one with --mapping FILE, a YAML file with the line 'event_time: timestamp' (every key is listed in the README)"
    """
    guess = _by_meaning(field, columns) or closest(field, columns) or "column"
    found = f"no column for {field} among the file's columns ({', '.join(columns)})"
    return DataError(
        f"{found}: map one with mapping={{{field!r}: {guess!r}}}",
        cli=f"{found}: map one with --mapping FILE, a YAML file with the line"
        f" '{field}: {guess}' (every key is listed in the README)",
        file=str(path),
        field=field,
    )


#: Words that often name a canonical field's column in exports.
_MEANINGS = {
    "event_time": ("timestamp", "time", "ts", "date", "created_at", "occurred_at"),
    "event_name": ("event", "name", "action", "event_type"),
    "user_id": ("user", "uid", "customer_id", "distinct_id", "person_id"),
}


def _by_meaning(field: str, columns: Sequence[str]) -> str | None:
    lowered = {c.lower(): c for c in columns}
    return next((lowered[w] for w in _MEANINGS.get(field, ()) if w in lowered), None)


def require_plain_names(columns: Sequence[str], path: Path) -> None:
    """Raise a DataError naming the first column whose name holds a NUL character."""
    for position, name in enumerate(columns, start=1):
        if "\x00" in name:
            shown = name.replace("\x00", "<NUL>")
            raise DataError(
                f"column {position} ({shown!r}) has a NUL character in its name: the file is"
                " damaged or not text; fix its header row",
                file=str(path),
                field=shown,
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
    """SQL over ``rows`` (``_row``, ``_raw``) adding ``g``, each row parsed once.

    ``g`` is the typed struct ``structure`` (a DuckDB JSON structure), NULL
    when the row is not JSON.
    """
    return f"select _row, _raw, try(from_json(_raw, {literal(structure)})) as g from ({rows})"


def rejected_when_not_json(*problems: tuple[str, str, str]) -> str:
    """SQL for a row's ``_reject_field`` and ``_reject_reason``.

    They say that ``g`` could not parse, or else name the first of ``problems``
    (field, SQL condition, SQL reason) that holds.
    """
    cases = [("line", "g is null", bad_json_reason()), *problems]
    field = " ".join(f"when {condition} then {literal(name)}" for name, condition, _ in cases)
    reason = " ".join(f"when {condition} then {why}" for _, condition, why in cases)
    return f"case {field} end as _reject_field, case {reason} end as _reject_reason"


def bad_json_reason() -> str:
    """SQL for the reason given to a line that is not valid JSON."""
    return literal("not valid JSON (a truncated or corrupted line)")


def parse_time(text: str, tz: str | None) -> tuple[str, list[object]]:
    """SQL turning timestamp text into TIMESTAMPTZ (UTC); naive text is read in ``tz``.

    Text may end in Z, an offset, UTC/GMT, an IANA zone name
    (``2024-01-01T10:00:00 America/New_York``, daylight time honoured) or one
    of :data:`ZONE_ABBREVIATIONS`; naive text is an ISO date and time
    (:data:`NAIVE`) or one on a 12-hour clock. Returns the expression and its bound
    parameters. Unparseable text, or an unknown or ambiguous zone, gives NULL
    (:func:`zone_problem` says why).

    Examples
    --------
    >>> import duckdb
    >>> expr, params = parse_time("t", None)
    >>> texts = ["2024-07-01T10:00:00 America/New_York", "2024-01-01 10:00:00 EST",
    ...          "2024-01-01T10:00:00 IST", "2024-01-01T10:00:00", "2024-01-01 10:00 PM",
    ...          "2024-01-01 10:00:00 123"]
    >>> [str(r[0]) for r in duckdb.sql(f"select {expr} from unnest({texts}) u(t)").fetchall()]
    ['2024-07-01 14:00:00+00:00', '2024-01-01 15:00:00+00:00', 'None', '2024-01-01 10:00:00+00:00', '2024-01-01 22:00:00+00:00', 'None']
    """
    trimmed = f"trim({text})"
    zone = _zone_name(trimmed)
    offset = " ".join(
        f"when {literal(name)} then {literal(value)}" for name, value in ZONE_ABBREVIATIONS.items()
    )
    without_zone = f"regexp_replace({trimmed}, {literal(ZONE_NAMED)}, '')"
    naive_zone = "?" if tz else "'UTC'"
    expr = (
        f"case when regexp_matches({trimmed}, {literal(ZONED)}) then try_cast({trimmed} as timestamptz)"
        f" when {_zone_named(trimmed)} then case"
        f"  when contains({zone}, '/') then try_cast({trimmed} as timestamptz)"
        f"  else try_cast({without_zone} || (case upper({zone}) {offset} end) as timestamptz) end"
        f" else timezone({naive_zone}, case"
        f"  when regexp_full_match({trimmed}, {literal(NAIVE)}) then try_cast({trimmed} as timestamp)"
        f"  when regexp_matches({trimmed}, {literal(_AM_PM)})"
        f"  then try_strptime({trimmed}, {_formats(TWELVE_HOUR)}) end) end"
    )
    return expr, ([tz] if tz else [])


def _formats(formats: list[str]) -> str:
    return "[" + ", ".join(literal(f) for f in formats) + "]"


def zone_problem(text: str) -> tuple[str, str]:
    """SQL (condition, reason) for timestamp text whose zone name is unknown or ambiguous.

    Meant for rows whose parsed time is NULL: it says why, where "not a valid
    timestamp" would not.
    """
    trimmed = f"trim({text})"
    zone = _zone_name(trimmed)
    condition = f"{text} is not null and {_zone_named(trimmed)}"
    reason = (
        f"{literal('unknown or ambiguous time zone ')} || {zone} ||"
        + literal(
            " (write an offset such as -05:00, an IANA name such as America/New_York,"
            " or one of " + ", ".join(ZONE_ABBREVIATIONS) + "): "
        )
        + f" || {text}"
    )
    return condition, reason


def _zone_named(trimmed: str) -> str:
    """SQL: whether timestamp text ends in a zone name (AM/PM is a clock, not a zone)."""
    return (
        f"(regexp_matches({trimmed}, {literal(ZONE_NAMED)})"
        f" and not regexp_matches({trimmed}, {literal(_AM_PM)}))"
    )


def _zone_name(trimmed: str) -> str:
    """SQL: the zone name timestamp text ends in ('' when none)."""
    return f"regexp_extract({trimmed}, {literal(ZONE_NAMED)}, 1)"


def is_naive(text: str) -> str:
    """SQL that is true when timestamp text carries no zone (no offset and no zone name)."""
    trimmed = f"trim({text})"
    return (
        f"({text} is not null and not regexp_matches({trimmed}, {literal(ZONED)})"
        f" and not {_zone_named(trimmed)})"
    )


def finite(value: str) -> str:
    """SQL keeping a DOUBLE only when it is finite: NaN and infinities are no amount.

    Examples
    --------
    >>> import duckdb
    >>> duckdb.sql(f"select {finite('x')} from unnest([1.5, 'nan'::double, 'inf'::double]) u(x)").fetchall()
    [(1.5,), (None,), (None,)]
    """
    return f"case when isfinite({value}) then {value} end"


def number(text: str) -> str:
    """SQL turning number text into a finite DOUBLE, else NULL (``NaN``, ``inf`` included)."""
    return finite(f"try_cast({text} as double)")


def epoch_time(seconds: str, unit: str) -> str:
    """SQL turning an epoch number (``s``, ``ms`` or ``us``) into TIMESTAMPTZ."""
    factor = {"s": "1000000", "ms": "1000", "us": "1"}[unit]
    return f"make_timestamp(try_cast({number(seconds)} * {factor} as bigint))::timestamptz"


def column(name: str) -> str:
    """A quoted column reference."""
    return ident(name)
