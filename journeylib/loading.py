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
import html
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

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
    after_insert: Callable[[Engine], None] | None = None,
    notes: Callable[[Engine], list[str]] | None = None,
) -> FileReport:
    """Load one file into ``target`` in one transaction (see the module docstring).

    The reader's rows are materialised once as ``_stage`` (without ``_raw``,
    which is read again only for rejected rows). ``shape``, when given, returns
    a SELECT over ``_stage`` that derives columns (it may first create small
    helper tables); the checks run over it as the view ``_checked``.
    ``columns`` are the target's columns taken from ``_checked`` (``origin`` is
    added); ``key`` the columns that identify a row for dedupe.
    """
    origin = str(path)
    if not path.is_file():
        raise DataError("file not found", file=origin)
    checksum = file_checksum(path)
    if engine.scalar(
        "select count(*) from loads where checksum = ? and target = ?", [checksum, target]
    ):
        return FileReport(origin, target, "skipped (already loaded)", checksum)
    plan = staged()
    rules = checks(plan)
    field_case = " ".join(f"when {c.condition} then {literal(c.field)}" for c in rules)
    reason_case = " ".join(f"when {c.condition} then {c.reason}" for c in rules)
    try:
        with engine.transaction():
            engine.execute(
                f"create or replace temp table _stage as select * exclude (_raw) from ({plan.sql})",
                plan.params,
            )
            shaped = shape(engine) if shape is not None else "select * from _stage"
            engine.execute(
                "create or replace temp view _checked as select *,"
                f" case when _reject_reason is not null then _reject_field {field_case} end as _field,"
                f" case when _reject_reason is not null then _reject_reason {reason_case} end as _reason"
                f" from ({shaped})"
            )
            rows = engine.scalar("select count(*) from _stage")
            rejected = _reject(engine, plan, origin)
            loaded = _insert(engine, target, columns, key, origin)
            if after_insert is not None:
                after_insert(engine)
            report = FileReport(
                origin,
                target,
                "loaded",
                checksum,
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
            engine.execute("drop view _checked")
            engine.execute("drop table _stage")
    except EngineError as err:
        raise DataError(
            f"could not be loaded as a {source} export: {err}. Nothing from this file was loaded.",
            file=origin,
        ) from None
    return report


def _reject(engine: Engine, plan: Staged, origin: str) -> int:
    """Move failing rows to ``rejected``, re-reading the raw text of just those rows."""
    engine.execute(
        "create or replace temp table _rejects as"
        " select _row, _field, _reason from _checked where _reason is not null"
    )
    count = int(engine.scalar("select count(*) from _rejects"))
    if count:
        engine.execute(
            "insert into rejected select ?, r._row, r._field, r._reason, s._raw"
            f" from _rejects r left join (select _row, _raw from ({plan.sql})) s using (_row)",
            [origin, *plan.params],
        )
    engine.execute("drop table _rejects")
    return count


def _insert(
    engine: Engine, target: str, columns: Sequence[str], key: Sequence[str], origin: str
) -> int:
    """Insert the rows that passed, skipping keys repeated in the file or already present."""
    table = ident(target)
    key_cols = ", ".join(ident(k) for k in key)
    valid = "select * from _checked where _reason is null"
    repeated = engine.scalar(f"select count(*) - count(distinct ({key_cols})) from ({valid})")
    if repeated:
        valid += f" qualify row_number() over (partition by {key_cols} order by _row) = 1"
    condition = ""
    if engine.scalar(f"select count(*) from {table}"):
        match = " and ".join(f"t.{ident(k)} is not distinct from c.{ident(k)}" for k in key)
        condition = f" where not exists (select 1 from {table} t where {match})"
    selected = ", ".join(f"c.{ident(col)}" for col in columns)
    before = int(engine.scalar(f"select count(*) from {table}"))
    engine.execute(
        f"insert into {table} ({', '.join(ident(c) for c in columns)}, origin)"
        f" select {selected}, ? from ({valid}) c{condition}",
        [origin],
    )
    return int(engine.scalar(f"select count(*) from {table}")) - before


def rejected_rows(engine: Engine, origins: Sequence[str]) -> pd.DataFrame:
    """The rejected rows of the given files, in file and row order."""
    if not origins:
        return pd.DataFrame(columns=["origin", "row", "field", "reason", "raw"])
    marks = ", ".join("?" for _ in origins)
    return engine.frame(
        f"select * from rejected where origin in ({marks}) order by origin, row", list(origins)
    )
