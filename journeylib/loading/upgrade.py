"""Workspace schema versions, and the upgrade of an older workspace (ADR 0034).

A workspace records the schema version of its layout in ``schema_versions``,
one row per version it reached (when, by which journeylib, how). A file
without that table but with the canonical tables is version 1: the layout
before versions were recorded. Opening an older workspace for writing
upgrades it: the file is first copied beside itself (the backup), then every
pending migration runs in one transaction with the rows recording them, so
an upgrade that fails leaves the workspace as it was. A read-only open of
an older workspace is refused with the command that upgrades it, and a
workspace from a newer journeylib is refused too. ``journeylib upgrade --db
W --dry-run`` lists the migrations without running them.

Examples
--------
>>> from journeylib.core.engine import Engine
>>> engine = Engine.connect(None)
>>> prepare(engine) is None, stored_version(engine)
(True, 5)
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path

from journeylib.core.engine import Engine
from journeylib.core.errors import WorkspaceError
from journeylib.core.schema import TABLES, create_statements
from journeylib.core.sql import ident
from journeylib.loading import layout
from journeylib.loading.ingest import content_id

#: the schema version this journeylib writes and reads
CURRENT = 5
#: the table recording each version a workspace reached
VERSION_TABLE = "schema_versions"
_VERSION_DDL = (
    f"create table if not exists {ident(VERSION_TABLE)} "
    "(version INTEGER, applied_at TIMESTAMPTZ, journeylib VARCHAR, how VARCHAR)"
)


@dataclass(frozen=True)
class Migration:
    """One step of an upgrade: what it does, and the function that does it."""

    to: int
    what: str
    run: Callable[[Engine], None]


def _record_versions(engine: Engine) -> None:
    """Version 2: the version table, and any canonical table an early file lacks."""
    for statement in create_statements():
        engine.execute(statement)
    engine.execute(_VERSION_DDL)


def _content_ids(engine: Engine) -> None:
    """Version 3: content ids over canonical properties (ADR 0035), duplicates removed.

    An event's id was derived (the export gave none) when it equals version
    1's hash of its source, person, time, name and properties text; the person
    was the export's user id, else the anonymous id (stitching may have moved
    the event to a user since, so both are tried). Such ids are computed again
    with :func:`~journeylib.loading.ingest.content_id`. Events that now share
    an id (the same content loaded in two key orders) keep the one loaded
    first; the ledger counts the others as duplicates of their files.
    """

    def old(who: str) -> str:
        return (
            f"md5(concat_ws(chr(31), l.source, {who}, cast(epoch_us(e.event_time) as varchar),"
            " e.event_name, cast(e.properties as varchar)))"
        )

    def new(who: str) -> str:
        properties = layout.as_variant("e.properties")
        return content_id("l.source", who, "e.event_time", "e.event_name", properties)

    engine.execute(
        "create or replace temp table _reid as"
        f" select e.rowid as r, e.origin, case when e.event_id = {old('e.user_id')}"
        f" then {new('e.user_id')} else {new('e.anonymous_id')} end as new_id, l.first"
        " from events e join (select origin, any_value(source) as source,"
        " min(loaded_at) as first from loads where target = 'events' group by origin) l"
        " on e.origin = l.origin"
        f" where e.event_id = {old('e.user_id')} or e.event_id = {old('e.anonymous_id')}"
    )
    engine.execute(
        "create or replace temp table _extra as select r, origin from"
        " (select r, origin, row_number() over (partition by new_id order by first, r) as k"
        " from _reid) where k > 1"
    )
    engine.execute("delete from events where rowid in (select r from _extra)")
    engine.execute(
        "update loads set loaded = loaded - x.n, duplicates = duplicates + x.n"
        " from (select origin, count(*) as n from _extra group by origin) x"
        " where loads.origin = x.origin and loads.target = 'events'"
    )
    engine.execute(
        "update events set event_id = _reid.new_id from _reid"
        " where events.rowid = _reid.r and _reid.r not in (select r from _extra)"
    )
    engine.execute("drop table _reid")
    engine.execute("drop table _extra")


#: every migration, in order: ``MIGRATIONS[k]`` upgrades version k + 1 to k + 2
MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        2,
        "record the schema version (schema_versions) and create the canonical tables"
        " a workspace from before identity_origins lacks",
        _record_versions,
    ),
    Migration(
        3,
        "derive the ids of events their export gave none from their content with keys in"
        " a canonical order, so a re-export in another column or key order dedupes;"
        " events that then share an id keep the one loaded first",
        _content_ids,
    ),
    Migration(
        4,
        "store events with integer person keys and event codes (the people and event_codes"
        " dictionaries) and rows ordered by person and time, for the native plans",
        layout.fill,
    ),
    Migration(
        5,
        "store event properties as a VARIANT, which reads a key 40-80x faster than JSON text"
        " and takes a quarter of the space",
        layout.variant_properties,
    ),
)


class UpgradeNotice(UserWarning):
    """Shown when opening a workspace upgraded it."""


@dataclass(frozen=True)
class Upgrade:
    """An upgrade, done or (``dry_run``) planned: versions, steps and the backup file."""

    path: Path | None
    before: int
    after: int
    steps: tuple[str, ...]
    backup: Path | None = None
    dry_run: bool = False

    def __str__(self) -> str:
        where = self.path or "the in-memory workspace"
        head = (
            f"Would upgrade {where} from schema version {self.before} to {self.after}:"
            if self.dry_run
            else f"Upgraded {where} from schema version {self.before} to {self.after}:"
        )
        lines = [head, *(f"- {step}" for step in self.steps)]
        if self.backup is not None:
            lines.append(
                f"The version-{self.before} file is kept at {self.backup}; delete it once"
                " the upgraded workspace serves you."
            )
        elif self.dry_run and self.path is not None:
            lines.append("Nothing was changed. The upgrade copies the file beside it first.")
        return "\n".join(lines)


def stored_version(engine: Engine) -> int | None:
    """The workspace's schema version: None for a database with no canonical table yet.

    >>> from journeylib.core.engine import Engine
    >>> stored_version(Engine.connect(None)) is None
    True
    """
    tables = {
        str(name)
        for (name,) in engine.rows(
            "select table_name from information_schema.tables where table_schema = 'main'"
        )
    }
    if VERSION_TABLE in tables:
        return int(engine.scalar(f"select max(version) from {ident(VERSION_TABLE)}"))
    return 1 if tables & set(TABLES) else None


def prepare(engine: Engine) -> Upgrade | None:
    """Make the workspace usable by this journeylib: create it, upgrade it or refuse it.

    A new database gets the canonical tables at the current version. An
    older one opened for writing is upgraded (:func:`upgrade`; an
    :class:`UpgradeNotice` says so and where the backup is); opened read-only
    it is refused, as is one from a newer journeylib. Returns the upgrade
    that ran, if any.
    """
    version = stored_version(engine)
    if version == CURRENT:
        return None
    if version is None:
        if not engine.read_only:
            _create(engine)
        return None
    if version > CURRENT:
        raise WorkspaceError(
            f"The workspace {engine.path} has schema version {version}, from a newer journeylib;"
            f" this one reads versions up to {CURRENT}. Upgrade journeylib to open it."
        )
    if engine.read_only:
        raise WorkspaceError(
            f"The workspace {engine.path} has schema version {version}; this journeylib uses"
            f" version {CURRENT}. Upgrade it once with `journeylib upgrade --db {engine.path}`"
            " (it keeps a copy of the file first), or open it with jl.open(path) without"
            " read_only."
        )
    done = upgrade(engine)
    warnings.warn(str(done), UpgradeNotice, stacklevel=4)
    return done


def upgrade(engine: Engine, *, dry_run: bool = False) -> Upgrade:
    """Run the pending migrations in one transaction, after copying the file beside itself.

    ``dry_run``: only say what would run. A workspace already current
    upgrades with no steps.

    Examples
    --------
    >>> from journeylib.core.engine import Engine
    >>> engine = Engine.connect(None)
    >>> for statement in create_statements():  # the tables, no version: a version-1 layout
    ...     engine.execute(statement)
    >>> print(upgrade(engine, dry_run=True))  # doctest: +ELLIPSIS
    Would upgrade the in-memory workspace from schema version 1 to 5:
    - record the schema version (schema_versions) and ...
    - derive the ids of events ...
    - store events with integer person keys ...
    - store event properties as a VARIANT...
    >>> upgrade(engine).after, stored_version(engine)
    (5, 5)
    """
    before = stored_version(engine)
    if before is None:
        raise WorkspaceError(f"{engine.path or 'This database'} is not a journeylib workspace.")
    pending = [m for m in MIGRATIONS if m.to > before]
    planned = Upgrade(engine.path, before, max(before, CURRENT), tuple(m.what for m in pending))
    if dry_run or not pending:
        return replace(planned, dry_run=dry_run)
    backup = _backup(engine.path, before) if engine.path is not None else None
    try:
        with engine.transaction():
            for migration in pending:
                migration.run(engine)
                engine.execute(
                    f"insert into {ident(VERSION_TABLE)} values (?, now(), ?, ?)",
                    [migration.to, _journeylib_version(), f"upgraded from {migration.to - 1}"],
                )
    except Exception as err:
        kept = f" A copy of it is at {backup}." if backup is not None else ""
        raise WorkspaceError(
            f"The upgrade of {engine.path or 'the workspace'} from schema version {before} to"
            f" {planned.after} failed, and the workspace is as it was (version {before}).{kept}"
            f" The cause: {type(err).__name__}: {err}"
        ) from err
    return replace(planned, backup=backup)


def _create(engine: Engine) -> None:
    """A new workspace: the canonical tables and the version table, at the current version."""
    with engine.transaction():
        for statement in [*create_statements(), _VERSION_DDL]:
            engine.execute(statement)
        engine.execute(
            f"insert into {ident(VERSION_TABLE)} values (?, now(), ?, 'created')",
            [CURRENT, _journeylib_version()],
        )


def _journeylib_version() -> str:
    try:
        return metadata.version("journeylib")
    except metadata.PackageNotFoundError:  # run from a source tree that is not installed
        return "unknown"


def _backup(path: Path, version: int) -> Path:
    """Copy the workspace file (and its write-ahead log) to a new name beside it."""
    stem = f"{path.name}.schema-v{version}"
    backup = path.with_name(f"{stem}.bak")
    n = 1
    while backup.exists():
        n += 1
        backup = path.with_name(f"{stem}-{n}.bak")
    shutil.copy2(path, backup)
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        shutil.copy2(wal, backup.with_name(backup.name + ".wal"))
    return backup


__all__ = [
    "CURRENT",
    "MIGRATIONS",
    "VERSION_TABLE",
    "Migration",
    "Upgrade",
    "UpgradeNotice",
    "prepare",
    "stored_version",
    "upgrade",
]
