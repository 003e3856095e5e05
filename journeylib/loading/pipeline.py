"""The load pipeline: one file, one transaction, nothing lost, nothing doubled.

For each file: its checksum is looked up in ``loads`` (a file loaded before is
skipped), the reader's staged SELECT is materialised once (or, for a columnar
file that is cheap to read again, staged as a view over it), each row is
checked (the first failing check names the field and the reason), failing rows
go to ``rejected`` with their raw text, the rest are inserted unless their key
is already present, and the load is recorded in ``loads``. Any failure rolls
the whole file back.

The checksum (SHA-256, seconds for a large export) is computed on a second
thread while the file loads, and looked up in ``loads`` before the commit: a
file already loaded under another name is rolled back and skipped. Only a
path already in the ledger (most likely a re-load) waits for it first.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from journeylib.core.engine import Engine
from journeylib.core.errors import DataError, EngineError, JourneyError
from journeylib.core.sql import ident, literal
from journeylib.loading.sources import Staged


@dataclass(frozen=True)
class Check:
    """A row check: rows where ``condition`` (SQL) holds are rejected with ``reason`` (SQL)."""

    field: str
    condition: str
    reason: str


@dataclass(frozen=True)
class FileReport:
    """What happened to one file."""

    origin: str
    target: str
    status: str  # "loaded" or "skipped (already loaded)"
    checksum: str = ""
    rows: int = 0
    loaded: int = 0
    duplicates: int = 0
    rejected: int = 0
    notes: tuple[str, ...] = ()


@dataclass
class LoadReport:
    """The outcome of a load: per-file counts, notes, and the rejected rows.

    Examples
    --------
    >>> report = LoadReport([FileReport("a.csv", "events", "loaded", rows=3, loaded=2, rejected=1)])
    >>> report.loaded, report.rejected
    (2, 1)
    """

    files: list[FileReport]
    rejected_rows: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def rows(self) -> int:
        """Rows read, over all files."""
        return sum(f.rows for f in self.files)

    @property
    def loaded(self) -> int:
        """Rows inserted, over all files."""
        return sum(f.loaded for f in self.files)

    @property
    def duplicates(self) -> int:
        """Rows skipped because their key was already loaded (or repeated in the file)."""
        return sum(f.duplicates for f in self.files)

    @property
    def rejected(self) -> int:
        """Rows sent to the ``rejected`` table."""
        return sum(f.rejected for f in self.files)

    @property
    def notes(self) -> list[str]:
        """Warnings worth reading (naive timestamps taken as UTC, empty files...)."""
        return [f"{f.origin}: {note}" for f in self.files for note in f.notes]

    def to_frame(self) -> pd.DataFrame:
        """One row per file."""
        return pd.DataFrame([f.__dict__ for f in self.files])

    def __str__(self) -> str:
        lines = [
            f"{f.origin}: {f.status}, {f.rows} rows, {f.loaded} loaded, "
            f"{f.duplicates} duplicates, {f.rejected} rejected"
            for f in self.files
        ]
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {
            "text/plain": str(self),
            "text/html": "<pre>" + html.escape(str(self)) + "</pre>",
            MIMETYPE: {"files": [asdict(f) for f in self.files]},
        }


#: Stage rereadable (columnar) files as a view instead of a table. Both give
#: the same rows; tests switch it off to compare the two paths.
STAGE_VIEWS = True

#: Memory budget of a load into a workspace file, in bytes. A materialised
#: stage (every row of a JSON export with its properties, about 1 KB a row)
#: would otherwise grow with the file (9.7 GiB at 10M GA4 events), and the
#: rows are sorted into the store's order (ADR 0036: 3.7 GiB for 10M Parquet
#: rows, 4.3 GiB for CSV); under the budget DuckDB moves what does not fit
#: to its temporary directory beside the workspace. Spilling costs a little
#: time: at 10M rows a CSV load took 52.6 s at 3 GiB against 50.4 s without
#: a budget, a Parquet load 30-34 s against 30.8 s (peaks 3.3 GiB).
#: A lower limit the user set stays. In-memory workspaces keep DuckDB's own
#: limit: they hold the whole workspace in memory anyway.
LOAD_MEMORY = 3 * 2**30

_UNITS = {
    "bytes": 1,
    "KiB": 2**10,
    "MiB": 2**20,
    "GiB": 2**30,
    "TiB": 2**40,
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "TB": 10**12,
}

#: The mimetype under which a displayed LoadReport carries its files, checksums
#: and counts, so a report run can list its inputs.
MIMETYPE = "application/vnd.journeylib.load+json"


def file_checksum(path: Path) -> str:
    """SHA-256 of the file's bytes: the identity of an export in the ``loads`` ledger."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def load_file(
    engine: Engine,
    path: Path,
    *,
    source: str,
    target: str,
    staged: Callable[[], Staged],
    columns: Sequence[str],
    key: Sequence[str],
    checks: Callable[[Staged], Sequence[Check]],
    shape: Callable[[Engine], str] | None = None,
    store: Callable[[Engine, str, str], str] | None = None,
    after_insert: Callable[[Engine], None] | None = None,
    notes: Callable[[Engine], list[str]] | None = None,
    advice: Callable[[], str] | None = None,
) -> FileReport:
    """Load one file into ``target`` in one transaction (see the module docstring).

    A file none of whose rows could be loaded raises a DataError naming the
    first rejected row and what ``advice`` says (the likely right source):
    nothing is kept and the ledger is untouched, so the corrected load reads it.

    The reader's rows are materialised once as ``_stage`` (with ``_raw`` only
    for the rows to be rejected, so they are not read again); when the reader says the file
    is cheap to read again (:attr:`Staged.rereadable`), ``_stage`` is a view
    over it instead, so no copy of the rows is held. ``shape``, when given, returns
    a SELECT over ``_stage`` that derives columns (it may first create small
    helper tables); the checks run over it as the view ``_checked``.
    ``columns`` are the target's columns taken from ``_checked`` (``origin`` is
    added); ``key`` the columns that identify a row for dedupe. ``store``,
    when given, returns the SELECT that stores the new rows from the valid
    rows and the new ones (SQL), as :func:`journeylib.loading.layout.stored`.
    """
    origin = str(path)
    if not path.is_file():
        raise DataError("file not found", file=origin)
    with ThreadPoolExecutor(max_workers=1) as pool:
        checksum = pool.submit(file_checksum, path)
        skipped = FileReport(origin, target, "skipped (already loaded)")
        # a path in the ledger is most likely a re-load: wait for its checksum first
        if engine.scalar(
            "select count(*) from loads where origin = ? and target = ?", [origin, target]
        ) and _loaded(engine, checksum, target):
            return replace(skipped, checksum=checksum.result())
        try:
            plan = staged()
            with _memory_budget(engine):
                return _load(
                    engine,
                    plan,
                    origin,
                    checksum,
                    source,
                    target,
                    columns,
                    key,
                    checks,
                    shape,
                    store,
                    after_insert,
                    notes,
                    advice,
                )
        except (_AlreadyLoaded, JourneyError):  # a loaded file is skipped, even if it fails now
            if not _loaded(engine, checksum, target):
                raise
            return replace(skipped, checksum=checksum.result())


class _AlreadyLoaded(Exception):
    """The file's checksum is in the ledger: the load is rolled back and skipped."""


def _loaded(engine: Engine, checksum: Future[str], target: str) -> bool:
    """Whether a file with this checksum was loaded into ``target`` before."""
    return bool(
        engine.scalar(
            "select count(*) from loads where checksum = ? and target = ?",
            [checksum.result(), target],
        )
    )


def _load(
    engine: Engine,
    plan: Staged,
    origin: str,
    checksum: Future[str],
    source: str,
    target: str,
    columns: Sequence[str],
    key: Sequence[str],
    checks: Callable[[Staged], Sequence[Check]],
    shape: Callable[[Engine], str] | None,
    store: Callable[[Engine, str, str], str] | None,
    after_insert: Callable[[Engine], None] | None,
    notes: Callable[[Engine], list[str]] | None,
    advice: Callable[[], str] | None,
) -> FileReport:
    rules = checks(plan)
    field_case = " ".join(f"when {c.condition} then {literal(c.field)}" for c in rules)
    reason_case = " ".join(f"when {c.condition} then {c.reason}" for c in rules)
    try:
        with engine.transaction():
            drops = _create_stage(engine, plan, rules)
            shaped = shape(engine) if shape is not None else "select * from _stage"
            engine.execute(
                "create or replace temp view _checked as select *,"
                f" case when _reject_reason is not null then _reject_field {field_case} end as _field,"
                f" case when _reject_reason is not null then _reject_reason {reason_case} end as _reason"
                f" from ({shaped})"
            )
            rows = engine.scalar("select count(*) from _stage")
            rejected = _reject(engine, origin)
            if rows and rejected == rows:
                raise _nothing_loadable(engine, origin, source, rows, advice)
            loaded = _insert(engine, target, columns, key, origin, store)
            if after_insert is not None:
                after_insert(engine)
            if _loaded(engine, checksum, target):
                raise _AlreadyLoaded
            digest = checksum.result()
            report = FileReport(
                origin,
                target,
                "loaded",
                digest,
                rows=rows,
                loaded=loaded,
                duplicates=rows - rejected - loaded,
                rejected=rejected,
                notes=tuple(notes(engine) if notes else ())
                + (("the file has no rows",) if rows == 0 else ()),
            )
            engine.execute(
                "insert into loads values (?, ?, ?, ?, ?, ?, ?, ?, now())",
                [origin, source, target, digest, rows, loaded, report.duplicates, rejected],
            )
            for drop in ["drop view _checked", *drops]:
                engine.execute(drop)
    except EngineError as err:
        raise DataError(
            f"could not be loaded as a {source} export: {err}. Nothing from this file was loaded.",
            file=origin,
        ) from None
    return report


def _nothing_loadable(
    engine: Engine, origin: str, source: str, rows: int, advice: Callable[[], str] | None
) -> DataError:
    """The error for a file whose every row was rejected (raised inside its transaction)."""
    row, name, reason = engine.rows(
        "select row, field, reason from rejected where origin = ? order by row limit 1", [origin]
    )[0]
    hint = advice() if advice is not None else ""
    return DataError(
        f"none of its {rows} rows could be loaded with source {source!r} (row {row}, field"
        f" {name}: {reason}). {hint + ' ' if hint else ''}Nothing from this file was loaded"
        " and it is not recorded as loaded, so a corrected load will read it.",
        file=origin,
    )


@contextmanager
def _memory_budget(engine: Engine) -> Iterator[None]:
    """Hold DuckDB's memory limit to :data:`LOAD_MEMORY` while a file is loaded.

    Only in a workspace file; the limit in force before (DuckDB's default or
    the user's) is put back afterwards.
    """
    if engine.path is None:
        yield
        return
    before = str(engine.scalar("select current_setting('memory_limit')"))
    engine.execute("RESET memory_limit")
    default = str(engine.scalar("select current_setting('memory_limit')"))
    restore = "RESET memory_limit" if before == default else f"SET memory_limit = {literal(before)}"
    engine.execute(restore)
    limit = _bytes(before)
    if limit is None or limit <= LOAD_MEMORY:
        yield
        return
    engine.execute(f"SET memory_limit = '{LOAD_MEMORY}B'")
    try:
        yield
    finally:
        engine.execute(restore)


def _bytes(size: str) -> int | None:
    """DuckDB's rendering of a size (``18.8 GiB``) in bytes; None when not understood.

    Examples
    --------
    >>> _bytes("18.8 GiB") > 20 * 10**9, _bytes("512.0 MiB"), _bytes("unlimited")
    (True, 536870912, None)
    """
    number, _, unit = size.strip().partition(" ")
    try:
        return int(float(number) * _UNITS[unit])
    except (ValueError, KeyError):
        return None


def _create_stage(engine: Engine, plan: Staged, rules: Sequence[Check]) -> list[str]:
    """Create ``_stage``, the reader's rows with ``_raw`` kept only for rows to be rejected.

    Returns the statements that drop what was created. A row's raw text is
    kept, as ``_rejected_raw``, where the reader or one of ``rules`` rejects it,
    so that ``rejected`` is filled from the same read as ``events``.

    A view cannot take bound parameters, so a rereadable plan's parameters are
    written into its SQL as literals; a plan whose parameters cannot be (or a
    file that is not cheap to read again) is materialised as a table. Rows of a
    plan with :attr:`Staged.positional_rows` are numbered by their row ids in
    that table, which DuckDB assigns in file order while reading in parallel
    (its ``preserve_insertion_order``).
    """
    failing = " or ".join(["_reject_reason is not null", *(f"({c.condition})" for c in rules)])
    kept = f"case when {failing} then _raw end as _rejected_raw"
    inlined = _inline(plan.sql, plan.params) if plan.rereadable and STAGE_VIEWS else None
    if inlined is not None:
        engine.execute(
            f"create or replace temp view _stage as select * exclude (_raw), {kept} from ({inlined})"
        )
        return ["drop view _stage"]
    if not plan.positional_rows:
        engine.execute(
            f"create or replace temp table _stage as select * exclude (_raw), {kept} from ({plan.sql})",
            plan.params,
        )
        return ["drop table _stage"]
    with _insertion_order_kept(engine):
        engine.execute(
            "create or replace temp table _stage_rows as"
            f" select * exclude (_row, _raw), {kept}, _raw is null as _blank from ({plan.sql})",
            plan.params,
        )
    # row ids count on from a base (a large one inside a transaction), one per row
    first = int(engine.scalar("select coalesce(min(rowid), 0) from _stage_rows"))
    engine.execute(
        "create or replace temp view _stage as"
        f" select rowid - {first} + 1 as _row, * exclude (_blank) from _stage_rows where not _blank"
    )
    return ["drop view _stage", "drop table _stage_rows"]


@contextmanager
def _insertion_order_kept(engine: Engine) -> Iterator[None]:
    """Keep DuckDB's ``preserve_insertion_order`` on (its default) while rows are staged."""
    if engine.scalar("select current_setting('preserve_insertion_order')"):
        yield
        return
    engine.execute("SET preserve_insertion_order = true")
    try:
        yield
    finally:
        engine.execute("SET preserve_insertion_order = false")


def _inline(sql: str, params: Sequence[object]) -> str | None:
    """``sql`` with each ``?`` placeholder replaced by its parameter as a literal.

    Question marks inside string literals, quoted identifiers and comments are
    left alone. Returns None when a parameter is not a plain value (text,
    number, boolean, NULL) or the placeholders and parameters do not pair up.

    Examples
    --------
    >>> _inline("select ?, '?' -- ?", ["it's"])
    "select 'it''s', '?' -- ?"
    >>> _inline("select ?", [[1, 2]]) is None
    True
    """
    out: list[str] = []
    values = list(params)
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch == "?":
            if not values:
                return None
            value = values.pop(0)
            if value is not None and not isinstance(value, str | int | float | bool):
                return None
            out.append(literal(value))
            i += 1
            continue
        end = i + 1
        if ch in "'\"":
            escaped = ch == "'" and i > 0 and sql[i - 1] in "eE" and not _word(sql, i - 2)
            while end < n:
                if escaped and sql[end] == "\\":
                    end += 2
                    continue
                if sql[end] == ch:
                    if end + 1 < n and sql[end + 1] == ch:
                        end += 2
                        continue
                    end += 1
                    break
                end += 1
        elif sql.startswith("--", i):
            newline = sql.find("\n", i)
            end = n if newline < 0 else newline
        elif sql.startswith("/*", i):
            close = sql.find("*/", i + 2)
            end = n if close < 0 else close + 2
        out.append(sql[i:end])
        i = end
    return None if values else "".join(out)


def _word(sql: str, i: int) -> bool:
    """Whether ``sql[i]`` is part of an identifier (so an ``e`` before it is not a prefix)."""
    return i >= 0 and (sql[i].isalnum() or sql[i] == "_")


def _reject(engine: Engine, origin: str) -> int:
    """Move failing rows to ``rejected`` with their raw text (kept by :func:`_create_stage`).

    The raw text is looked up only when some row fails: a staged view computes
    it from every column of the file.
    """
    engine.execute(
        "create or replace temp table _rejects as"
        " select _row, _field, _reason from _checked where _reason is not null"
    )
    count = int(engine.scalar("select count(*) from _rejects"))
    if count:
        engine.execute(
            "insert into rejected select ?, r._row, r._field, r._reason, s._rejected_raw"
            " from _rejects r left join (select _row, _rejected_raw from _stage) s using (_row)"
            " order by r._row",
            [origin],
        )
    engine.execute("drop table _rejects")
    return count


def _insert(
    engine: Engine,
    target: str,
    columns: Sequence[str],
    key: Sequence[str],
    origin: str,
    store: Callable[[Engine, str, str], str] | None,
) -> int:
    """Insert the rows that passed, skipping keys repeated in the file or already present."""
    table = ident(target)
    key_cols = ", ".join(ident(k) for k in key)
    valid = "select * from _checked where _reason is null"
    # Keys repeated in the file? Counting distinct 64-bit hashes of the keys is
    # several times cheaper than counting distinct keys; when every hash is
    # distinct every key is too (and at most one is NULL), so the exact count
    # is only needed when some hashes repeat.
    repeated = engine.scalar(f"select count(*) - count(distinct hash({key_cols})) from ({valid})")
    if repeated:
        repeated = engine.scalar(f"select count(*) - count(distinct ({key_cols})) from ({valid})")
    if repeated:
        valid += f" qualify row_number() over (partition by {key_cols} order by _row) = 1"
    condition = ""
    if engine.scalar(f"select count(*) from {table}"):
        match = " and ".join(f"t.{ident(k)} is not distinct from c.{ident(k)}" for k in key)
        condition = f" where not exists (select 1 from {table} t where {match})"
    selected = ", ".join(f"c.{ident(col)}" for col in columns)
    rows = f"select {selected}, {literal(origin)} as origin from ({valid}) c{condition}"
    before = int(engine.scalar(f"select count(*) from {table}"))
    engine.execute(f"insert into {table} by name {store(engine, valid, rows) if store else rows}")
    return int(engine.scalar(f"select count(*) from {table}")) - before


def rejected_rows(engine: Engine, origins: Sequence[str]) -> pd.DataFrame:
    """The rejected rows of the given files, in file and row order."""
    if not origins:
        return pd.DataFrame(columns=["origin", "row", "field", "reason", "raw"])
    marks = ", ".join("?" for _ in origins)
    return engine.frame(
        f"select * from rejected where origin in ({marks}) order by origin, row", list(origins)
    )
