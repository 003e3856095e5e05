"""A workspace: one DuckDB database with the canonical tables, and its loaders."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from journeylib.core.durations import Duration, to_microseconds
from journeylib.core.engine import Engine
from journeylib.core.errors import DataError, EngineError, ParameterError
from journeylib.core.yamlfile import read_mapping
from journeylib.loading import layout, pipeline
from journeylib.loading.channels import load_rules
from journeylib.loading.ingest import load_event_file
from journeylib.loading.sources import ReadOptions, crm, event_readers, feedback, spend
from journeylib.loading.unload import UnloadReport, unload_file
from journeylib.loading.upgrade import VERSION_TABLE, prepare, stored_version
from journeylib.model.events import Events

PathLike = str | Path


class Workspace:
    """A DuckDB database holding ``events`` and its companion tables.

    Examples
    --------
    >>> ws = open()
    >>> sorted(ws.tables())[:3]
    ['customers', 'events', 'feedback']
    """

    def __init__(
        self,
        engine: Engine,
        *,
        channel_rules: PathLike | Sequence[Mapping[str, object]] | None = None,
        session_timeout: Duration = "30m",
    ) -> None:
        self.engine = engine
        self.channel_rules = load_rules(channel_rules)
        self.session_timeout_us = to_microseconds(session_timeout, param="session_timeout")
        #: the upgrade opening it ran (an older workspace opened for writing), else None
        self.upgraded = prepare(engine)

    def load_events(
        self,
        paths: PathLike | Iterable[PathLike],
        source: str = "csv",
        mapping: Mapping[str, str] | PathLike | None = None,
        *,
        tz: str | None = None,
        delimiter: str | None = None,
    ) -> pipeline.LoadReport:
        """Load event exports (each file all-or-nothing; re-loads are no-ops).

        ``source`` is one of ``csv``, ``parquet``, ``ga4``, ``segment``,
        ``mixpanel``, ``amplitude``. ``mapping`` (dict or YAML file, canonical
        column -> export column) applies to ``csv``/``parquet``. ``tz`` is the
        zone of timestamps written without one (UTC when not given).
        ``delimiter`` is a CSV's field separator (sniffed when not given; give
        it when values often hold another separator, such as ``;``).
        """
        readers = event_readers()
        if source not in readers:
            raise ParameterError("source", source, allowed=sorted(readers))
        options = ReadOptions(
            mapping=_mapping(mapping), tz=_zone(self.engine, tz), delimiter=_delimiter(delimiter)
        )
        return self._report(
            _each(
                self.engine,
                paths,
                lambda path: load_event_file(
                    self.engine,
                    path,
                    source=source,
                    options=options,
                    rules=self.channel_rules,
                    session_timeout_us=self.session_timeout_us,
                ),
            )
        )

    def load_deals(
        self,
        paths: PathLike | Iterable[PathLike],
        *,
        mapping: Mapping[str, str] | PathLike | None = None,
        tz: str | None = None,
    ) -> pipeline.LoadReport:
        """Load CRM deal exports into ``customers``, with their milestones as events."""
        zone, columns = _zone(self.engine, tz), _mapping(mapping)
        return self._report(
            _each(self.engine, paths, lambda p: crm.load(self.engine, p, mapping=columns, tz=zone))
        )

    def load_spend(
        self,
        paths: PathLike | Iterable[PathLike],
        *,
        format: str = "auto",
        mapping: Mapping[str, str] | PathLike | None = None,
    ) -> pipeline.LoadReport:
        """Load ad-spend exports (Google Ads, Meta or generic CSV) into ``spend``."""
        columns = _mapping(mapping)
        return self._report(
            _each(
                self.engine,
                paths,
                lambda p: spend.load(self.engine, p, format=format, mapping=columns),
            )
        )

    def load_feedback(
        self,
        paths: PathLike | Iterable[PathLike],
        *,
        kind: str,
        mapping: Mapping[str, str] | PathLike | None = None,
        tz: str | None = None,
    ) -> pipeline.LoadReport:
        """Load survey (``kind="nps"|"csat"``) or ticket (``"ticket"``) exports into ``feedback``."""
        zone, columns = _zone(self.engine, tz), _mapping(mapping)
        return self._report(
            _each(
                self.engine,
                paths,
                lambda p: feedback.load(self.engine, p, kind=kind, mapping=columns, tz=zone),
            )
        )

    def unload(self, origin: PathLike) -> UnloadReport:
        """Remove a loaded file's rows, rejected rows and ledger entry, in one transaction.

        ``origin`` is the file as it was loaded (its path as given then, the
        same path written another way, or a file with the same bytes).
        Identities only that file showed are forgotten and derived sessions
        redone; after it, loading the file again reads it afresh.

        Examples
        --------
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "e.csv"
        >>> _ = path.write_text("user_id,event_name,event_time\\nu1,open,2024-01-01T10:00:00Z\\n")
        >>> ws = open()
        >>> _ = ws.load_events(path)
        >>> ws.unload(path).removed["events"], ws.info()["events"]
        (1, 0)
        """
        with self.engine.writing():
            return unload_file(self.engine, origin, self.session_timeout_us)

    def _report(self, files: list[pipeline.FileReport]) -> pipeline.LoadReport:
        return pipeline.LoadReport(
            files, pipeline.rejected_rows(self.engine, [f.origin for f in files])
        )

    def events(self) -> Events:
        """An immutable handle over the workspace's events."""
        return Events.over(self.engine, self.engine.table("events"))

    def tables(self) -> dict[str, int]:
        """Row counts of the workspace's tables (its schema version is in :meth:`info`).

        The store's own tables (the version history, the key dictionaries) are left out.
        """
        names = [
            row[0]
            for row in self.engine.rows(
                "select table_name from duckdb_tables() where schema_name = 'main' and not temporary"
            )
            if row[0] not in {VERSION_TABLE, *(d.table for d in layout.DICTIONARIES)}
        ]
        return {
            name: int(self.engine.scalar(f'select count(*) from "{name}"'))
            for name in sorted(names)
        }

    def info(self) -> dict[str, Any]:
        """A summary: schema version, events, users, first and last event, rejected rows, rows per table."""
        events, users, first, last = self.engine.rows(
            "select count(*), count(distinct user_id), min(event_time), max(event_time) from events"
        )[0]
        return {
            "schema_version": stored_version(self.engine),
            "events": int(events),
            "users": int(users),
            "first_event": first.isoformat() if first is not None else None,
            "last_event": last.isoformat() if last is not None else None,
            "rejected": int(self.engine.scalar("select count(*) from rejected")),
            "tables": self.tables(),
        }

    def sql(self, query: str, params: Sequence[object] | None = None) -> pd.DataFrame:
        """Run a read query against the workspace (values bound as ``?``)."""
        return self.engine.frame(query, params)

    def close(self) -> None:
        """Close the workspace."""
        self.engine.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open(
    path: PathLike | None = None,
    *,
    read_only: bool = False,
    channel_rules: PathLike | Sequence[Mapping[str, object]] | None = None,
    session_timeout: Duration = "30m",
) -> Workspace:
    """Open (or create) a workspace: a DuckDB file, or memory when ``path`` is None.

    Examples
    --------
    >>> ws = open()
    >>> ws.info()["events"]
    0
    """
    return Workspace(
        Engine.connect(path, read_only=read_only),
        channel_rules=channel_rules,
        session_timeout=session_timeout,
    )


def _each(
    engine: Engine,
    paths: PathLike | Iterable[PathLike],
    load: Callable[[Path], pipeline.FileReport],
) -> list[pipeline.FileReport]:
    """Load each file in turn, holding the workspace for writing.

    A failing file's error says what became of the others.

    Each file is its own transaction: those before a failing one stay loaded,
    those after it are not read. The error says which, so the same command can
    be run again once the file is fixed (loaded files are then skipped).
    """
    files = _files(paths)
    done: list[pipeline.FileReport] = []
    with engine.writing():
        for position, path in enumerate(files):
            try:
                done.append(load(path))
            except (DataError, EngineError) as err:
                if len(files) == 1:
                    raise
                kept = ", ".join(f"{f.origin} ({f.status})" for f in done) or "none"
                unread = ", ".join(str(p) for p in files[position + 1 :]) or "none"
                others = (
                    f" Files before it stay loaded: {kept}. Not read: {unread}."
                    " Run the same load again once it is fixed: loaded files are skipped."
                )
                cli = err.cli_message if isinstance(err, DataError) else str(err)
                raise DataError(
                    str(err).rstrip(".") + "." + others, cli=cli.rstrip(".") + "." + others
                ) from None
    return done


def _files(paths: PathLike | Iterable[PathLike]) -> list[Path]:
    items = [paths] if isinstance(paths, str | Path) else list(paths)
    files: list[Path] = []
    for item in items:
        text = str(item)
        if any(ch in text for ch in "*?["):
            matches = (
                sorted(Path().glob(text))
                if not Path(text).is_absolute()
                else sorted(
                    Path(Path(text).anchor).glob(str(Path(text).relative_to(Path(text).anchor)))
                )
            )
            if not matches:
                raise DataError("no file matches this pattern", file=text)
            files.extend(matches)
        else:
            files.append(Path(item))
    if not files:
        raise ParameterError("paths", paths, reason="Give at least one file.")
    return files


def _mapping(mapping: Mapping[str, str] | PathLike | None) -> dict[str, str]:
    if mapping is None:
        return {}
    if isinstance(mapping, str | Path):
        mapping = read_mapping(mapping, "mapping", "canonical column: export column pairs")
    return {str(k): str(v) for k, v in mapping.items()}


def _delimiter(delimiter: str | None) -> str | None:
    """A CSV field separator: one character, not a quote or a line break."""
    if delimiter is None:
        return None
    if delimiter == "\\t":  # as typed on a command line
        return "\t"
    if len(delimiter) != 1 or delimiter in {'"', "\n", "\r"}:
        raise ParameterError(
            "delimiter",
            delimiter,
            reason="Give one character, such as ',', ';', '|' or '\\t' for a tab.",
        )
    return delimiter


def _zone(engine: Engine, tz: str | None) -> str | None:
    if tz is None:
        return None
    known = {row[0] for row in engine.rows("select name from pg_timezone_names()")}
    if tz not in known:
        raise ParameterError(
            "tz",
            tz,
            reason="Not a known time zone name.",
            allowed=sorted(z for z in known if "/" in z)[:0] or None,
        )
    return tz
