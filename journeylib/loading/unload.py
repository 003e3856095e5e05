"""Unloading a file: its rows, rejected rows and ledger entry removed in one transaction.

What the file taught the workspace goes with it: an identity that only this
file showed is forgotten and the events stitched by it return to their
anonymous id, and the derived sessions of every person whose events changed
are derived again. Events the file shared with a file loaded after it were
stored once, under this file, so they go too; the report names those files,
which unloading and re-loading restores whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from journeylib.core.engine import Engine
from journeylib.core.errors import ParameterError, closest
from journeylib.core.sql import ident
from journeylib.loading import layout
from journeylib.loading.ingest import sessionize
from journeylib.loading.pipeline import file_checksum

#: Tables whose rows carry the file they came from.
TABLES_WITH_ORIGIN = ("events", "customers", "feedback", "spend", "rejected", "loads")


@dataclass(frozen=True)
class UnloadReport:
    """What unloading removed, table by table, and what to look at after it.

    Examples
    --------
    >>> print(UnloadReport(["e.csv"], {"events": 2, "loads": 1}))
    e.csv: unloaded; removed 2 events, 1 loads
    """

    origins: list[str]
    removed: dict[str, int]
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        counts = ", ".join(f"{n} {table}" for table, n in self.removed.items() if n)
        lines = [f"{', '.join(self.origins)}: unloaded; removed {counts or 'nothing'}"]
        return "\n".join(lines + [f"note: {note}" for note in self.notes])


def unload_file(engine: Engine, origin: str | Path, session_timeout_us: int) -> UnloadReport:
    """Remove everything loaded from ``origin`` (a path as loaded, or the same file).

    Examples
    --------
    >>> import tempfile, journeylib as jl
    >>> path = Path(tempfile.mkdtemp()) / "e.csv"
    >>> _ = path.write_text("user_id,event_name,event_time\\nu1,open,2024-01-01T10:00:00Z\\n")
    >>> ws = jl.open()
    >>> _ = ws.load_events(path)
    >>> unload_file(ws.engine, path, ws.session_timeout_us).removed["events"]
    1
    >>> ws.info()["events"]
    0
    """
    origins = ledger_origins(engine, origin)
    marks = ", ".join("?" for _ in origins)
    with engine.transaction():
        notes = _overlapping(engine, origins, marks)
        engine.execute(
            "create or replace temp table _unload_users as"
            f" select distinct user_id from events where origin in ({marks})",
            origins,
        )
        removed = {
            table: int(
                engine.scalar(
                    f"select count(*) from {ident(table)} where origin in ({marks})", origins
                )
            )
            for table in TABLES_WITH_ORIGIN
        }
        for table in TABLES_WITH_ORIGIN:
            engine.execute(f"delete from {ident(table)} where origin in ({marks})", origins)
        removed["identities"] = _forget_identities(engine, origins, marks)
        layout.prune_codes(engine)
        touched = [row[0] for row in engine.rows("select user_id from _unload_users")]
        sessionize(engine, session_timeout_us, touched)
        engine.execute("drop table _unload_users")
    return UnloadReport(origins, removed, notes)


def ledger_origins(engine: Engine, origin: str | Path) -> list[str]:
    """The ledger's origins for ``origin``: the same text, the same path, or the same bytes.

    Raises a ParameterError with the closest loaded file when none matches.
    """
    text = str(origin)
    loaded = [row[0] for row in engine.rows("select distinct origin from loads order by 1")]
    if text in loaded:
        return [text]
    path = Path(text).resolve()
    same_path = [o for o in loaded if Path(o).resolve() == path]
    if same_path:
        return same_path
    if path.is_file():
        digest = file_checksum(path)
        same_bytes = [
            row[0]
            for row in engine.rows(
                "select distinct origin from loads where checksum = ? order by 1", [digest]
            )
        ]
        if same_bytes:
            return same_bytes
    hint = closest(text, loaded)
    raise ParameterError(
        "origin",
        text,
        reason=f"No file of this name, path or content was loaded into this workspace"
        f" ({len(loaded)} files were)." + (f" Did you mean {hint!r}?" if hint else ""),
    )


def _overlapping(engine: Engine, origins: list[str], marks: str) -> list[str]:
    """Notes naming the files loaded after these that skipped rows as duplicates."""
    later = engine.rows(
        "select origin, duplicates from loads l where duplicates > 0"
        f" and origin not in ({marks}) and loaded_at >= (select min(loaded_at) from loads"
        f" where origin in ({marks}) and target = l.target) order by loaded_at",
        [*origins, *origins],
    )
    return [
        f"{name} skipped {count} rows as already loaded; those it shared with the unloaded"
        f" file are gone with it: unload and re-load {name} to restore them"
        for name, count in later
    ]


def _forget_identities(engine: Engine, origins: list[str], marks: str) -> int:
    """Forget the identities only these files showed; return their stitched events home."""
    engine.execute(
        "create or replace temp table _forgotten as select i.anonymous_id, i.user_id"
        " from identities i where exists (select 1 from identity_origins o"
        f"  where o.anonymous_id = i.anonymous_id and o.created and o.origin in ({marks}))"
        " and not exists (select 1 from identity_origins o"
        f"  where o.anonymous_id = i.anonymous_id and o.origin not in ({marks}))",
        [*origins, *origins],
    )
    engine.execute(
        "insert into _unload_users select user_id from _forgotten"
        " union select anonymous_id from _forgotten"
    )
    layout.extend(engine, layout.PEOPLE, "select anonymous_id as user_id from _forgotten")
    engine.execute(
        "update events set user_id = f.anonymous_id, person_key = p.person_key"
        " from _forgotten f join people p on p.user_id = f.anonymous_id"
        " where events.anonymous_id = f.anonymous_id and events.user_id = f.user_id"
    )
    forgotten = int(engine.scalar("select count(*) from _forgotten"))
    engine.execute(
        "delete from identities where anonymous_id in (select anonymous_id from _forgotten)"
    )
    # an identity this file created but another file also shows now belongs to that file
    engine.execute(
        "update identity_origins set created = true where anonymous_id in"
        f" (select anonymous_id from identity_origins where created and origin in ({marks}))"
        f" and origin not in ({marks})",
        [*origins, *origins],
    )
    engine.execute(f"delete from identity_origins where origin in ({marks})", origins)
    engine.execute("drop table _forgotten")
    return forgotten


__all__ = ["UnloadReport", "ledger_origins", "unload_file"]
