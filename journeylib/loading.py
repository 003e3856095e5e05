"""The load pipeline: one file, one transaction, nothing lost, nothing doubled.

For each file: its checksum is looked up in ``loads`` (a file loaded before is
skipped), the reader's staged SELECT is materialised once, each row is checked
(the first failing check names the field and the reason), failing rows go to
``rejected`` with their raw text, the rest are inserted unless their key is
already present, and the load is recorded in ``loads``. Any failure rolls the
whole file back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from journeylib.engine import Engine
from journeylib.errors import DataError, EngineError
from journeylib.sources import Staged
from journeylib.sql import ident, literal


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

    def _repr_html_(self) -> str:
        return "<pre>" + str(self).replace("&", "&amp;").replace("<", "&lt;") + "</pre>"


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
    after_insert: Callable[[Engine], None] | None = None,
    notes: Callable[[Engine], list[str]] | None = None,
) -> FileReport:
    """Load one file into ``target`` in one transaction (see the module docstring).

    ``columns`` are the target's columns selected from the staged rows
    (``origin`` is added); ``key`` the columns that identify a row for dedupe.
    """
    origin = str(path)
    if not path.is_file():
        raise DataError("file not found", file=origin)
    checksum = file_checksum(path)
    if engine.scalar(
        "select count(*) from loads where checksum = ? and target = ?", [checksum, target]
    ):
        return FileReport(origin, target, "skipped (already loaded)")
    plan = staged()
    rules = checks(plan)
    field_case = " ".join(f"when {c.condition} then {literal(c.field)}" for c in rules)
    reason_case = " ".join(f"when {c.condition} then {c.reason}" for c in rules)
    key_cols = ", ".join(ident(k) for k in key)
    match = " and ".join(f"t.{ident(k)} is not distinct from c.{ident(k)}" for k in key)
    selected = ", ".join(f"c.{ident(col)}" for col in columns)
    try:
        with engine.transaction():
            engine.execute(f"create or replace temp table _stage as {plan.sql}", plan.params)
            engine.execute(
                "create or replace temp table _checked as select *,"
                f" case when _reject_reason is not null then _reject_field {field_case} end as _field,"
                f" case when _reject_reason is not null then _reject_reason {reason_case} end as _reason"
                " from _stage"
            )
            engine.execute(
                "insert into rejected select ?, _row, _field, _reason, _raw"
                " from _checked where _reason is not null",
                [origin],
            )
            engine.execute(
                f"insert into {ident(target)} ({', '.join(ident(c) for c in columns)}, origin)"
                f" select {selected}, ? from (select * from _checked where _reason is null"
                f" qualify row_number() over (partition by {key_cols} order by _row) = 1) c"
                f" where not exists (select 1 from {ident(target)} t where {match})",
                [origin],
            )
            loaded = engine.scalar(
                f"select count(*) from {ident(target)} where origin = ?", [origin]
            )
            rows, rejected = engine.rows("select count(*), count(_reason) from _checked")[0]
            if after_insert is not None:
                after_insert(engine)
            report = FileReport(
                origin,
                target,
                "loaded",
                rows=rows,
                loaded=loaded,
                duplicates=rows - rejected - loaded,
                rejected=rejected,
                notes=tuple(notes(engine) if notes else ())
                + (("the file has no rows",) if rows == 0 else ()),
            )
            engine.execute(
                "insert into loads values (?, ?, ?, ?, ?, ?, ?, ?, now())",
                [origin, source, target, checksum, rows, loaded, report.duplicates, rejected],
            )
            engine.execute("drop table _stage")
            engine.execute("drop table _checked")
    except EngineError as err:
        raise DataError(
            f"could not be read as a {source} export: {err}. Nothing from this file was loaded.",
            file=origin,
        ) from None
    return report


def rejected_rows(engine: Engine, origins: Sequence[str]) -> pd.DataFrame:
    """The rejected rows of the given files, in file and row order."""
    if not origins:
        return pd.DataFrame(columns=["origin", "row", "field", "reason", "raw"])
    marks = ", ".join("?" for _ in origins)
    return engine.frame(
        f"select * from rejected where origin in ({marks}) order by origin, row", list(origins)
    )
