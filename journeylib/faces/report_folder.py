"""The folder a report is published into, and how a new report replaces the last.

A report run replaces its ``out`` folder as a whole, so before anything runs
:func:`checked_out` makes sure that replacing it can lose nothing of the
user's: ``out`` must be new, empty, or a report folder this tool wrote
(recognised by its ``manifest.json``), and never the home folder, the current
folder, or a folder holding the notebook or a file the run reads.

``out`` is a symbolic link to one complete version kept beside it, in
``.<name>.reports/``. :class:`Publication` writes the new version there and
publishes it by replacing the link in one atomic rename, so at every moment
``out`` is a complete report, old or new. A lock in that folder lets one run
publish at a time (another is refused with a message, its notebook not run),
and each run first removes what killed runs left there.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

from journeylib.core.errors import ParameterError

MANIFEST = "manifest.json"
GENERATOR = "journeylib report"
LOCK = "lock"


def checked_out(out: str | Path, protected: Iterable[str | Path] = ()) -> Path:
    """``out`` as an absolute path, once replacing it is known to lose nothing.

    ``protected`` are paths the run reads (the notebook, a workspace): ``out``
    may not be one of them or a folder above them. Nor may it be the home
    folder, the current folder or a folder above either. An existing ``out``
    must be an empty folder or a report folder this tool wrote.

    Examples
    --------
    >>> import tempfile
    >>> home = Path(tempfile.mkdtemp())
    >>> checked_out(home / "reports" / "weekly").name
    'weekly'
    >>> (home / "notes.txt").write_text("mine")
    4
    >>> checked_out(home)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    journeylib.core.errors.ParameterError: Invalid value ... for parameter 'out'. It exists and is not a report folder ...
    """
    target = _absolute(out)
    real = target.resolve()
    guarded = [
        ("the home folder", Path.home()),
        ("the current folder", Path.cwd()),
        *(("a file the run reads", Path(p)) for p in protected),
    ]
    for what, path in guarded:
        inside = path.resolve()
        if inside == real or real in inside.parents:
            holds = "It is" if inside == real else "It holds"
            raise ParameterError(
                "out",
                str(out),
                reason=f"{holds} {what} ({path}), which a report run must not replace. "
                "Give a folder of its own, for example reports/weekly.",
            )
    if target.is_symlink():
        ours = _published(target) is not None
    else:
        ours = not target.exists() or _replaceable(target)
    if not ours:
        raise ParameterError(
            "out",
            str(out),
            reason=f"It exists and is not a report folder journeylib wrote (no journeylib "
            f"{MANIFEST} in it), so publishing there would delete what it holds. "
            "Give a new folder, an empty one, or an earlier report's folder.",
        )
    return target


def is_report_folder(folder: Path) -> bool:
    """Whether ``folder`` is a report folder this tool wrote (its manifest says so).

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> is_report_folder(folder)
    False
    >>> _ = (folder / "manifest.json").write_text('{"generator": "journeylib report"}')
    >>> is_report_folder(folder)
    True
    """
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(manifest, dict):
        return False
    versions = manifest.get("versions")
    written_before_the_mark = isinstance(versions, dict) and "journeylib" in versions
    return manifest.get("generator") == GENERATOR or written_before_the_mark


class Publication:
    """One run's claim on a report folder: the lock, the new version, its atomic publish.

    Entering takes the folder's lock (or refuses: another run is publishing),
    removes what killed runs left and makes an empty version folder,
    :attr:`work`, for the run to write into. :meth:`publish` makes ``target``
    point at it in one rename and removes the versions before it. Leaving
    without publishing removes the version; leaving always releases the lock.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "weekly"
    >>> with Publication(target) as run:
    ...     _ = (run.work / "report.html").write_text("<p>week 1</p>")
    ...     run.publish()
    >>> (target / "report.html").read_text()
    '<p>week 1</p>'
    >>> sorted(p.name for p in target.parent.iterdir())
    ['.weekly.reports', 'weekly']
    """

    def __init__(self, target: Path) -> None:
        self.target = target
        self.store = target.with_name(_store_name(target))
        self.work = self.store / f"v-{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(4)}"
        self._lock: int | None = None

    def __enter__(self) -> Publication:
        self.store.mkdir(parents=True, exist_ok=True)
        self._lock = _locked(self.store / LOCK, self.target)
        try:
            self._remove_all_but(_published(self.target))
            for leftover in _legacy_leftovers(self.target):
                shutil.rmtree(leftover, ignore_errors=True)
            self.work.mkdir()  # with the user's umask, unlike a temporary folder
        except BaseException:
            os.close(self._lock)
            raise
        return self

    def publish(self) -> None:
        """Make ``target`` the new version in one atomic rename; remove the old ones."""
        link = self.store / f"link-{self.work.name}"
        link.symlink_to(f"{self.store.name}/{self.work.name}")
        if self.target.is_dir() and not self.target.is_symlink():
            # A report folder from before versions were kept: moved aside once,
            # the one moment without a report at ``target``.
            self.target.rename(self.store / f"legacy-{self.work.name}")
        os.replace(link, self.target)
        _sync(self.target.parent)
        self._remove_all_but(self.work.name)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            if _published(self.target) != self.work.name:
                shutil.rmtree(self.work, ignore_errors=True)
        finally:
            if self._lock is not None:
                os.close(self._lock)

    def _remove_all_but(self, current: str | None) -> None:
        for entry in self.store.iterdir():
            if entry.name in {LOCK, current}:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def _legacy_leftovers(target: Path) -> list[Path]:
    """Folders that killed runs left beside ``target`` before reports were versioned.

    Those runs worked in ``.<name>.<8 random characters>`` and moved the last
    report aside as ``.<name>.old-<nanoseconds>``. Only folders holding nothing
    but what a run writes (a report, or part of one) are taken for theirs.
    """
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(old-\d+|[a-z0-9_]{{8}})")
    return [
        entry
        for entry in target.parent.iterdir()
        if pattern.fullmatch(entry.name)
        and entry.is_dir()
        and not entry.is_symlink()
        and (
            is_report_folder(entry)
            or all(
                part.name in {"tables", "report.html"} or part.suffix == ".ipynb"
                for part in entry.iterdir()
            )
        )
    ]


def _locked(path: Path, target: Path) -> int:
    """An open descriptor holding ``path``'s exclusive lock; released when closed or killed."""
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(handle, 200, 0).decode(errors="replace").strip()
        os.close(handle)
        raise ParameterError(
            "out",
            str(target),
            reason=f"Another report run ({holder or 'a running process'}) is publishing into "
            "this folder. Its report will be complete when it ends; run again then, or give "
            "another --out.",
        ) from None
    os.ftruncate(handle, 0)
    os.pwrite(handle, f"pid {os.getpid()}, started {time.strftime('%H:%M:%S')}".encode(), 0)
    return handle


def _published(target: Path) -> str | None:
    """The name of the version ``target`` links to, when it links into its own store."""
    if not target.is_symlink():
        return None
    store, _, version = os.readlink(target).partition("/")
    ours = store == _store_name(target) and version and "/" not in version
    return version if ours else None


def _store_name(target: Path) -> str:
    """The name of the folder beside ``target`` that keeps its versions and lock."""
    return f".{target.name}.reports"


def _sync(folder: Path) -> None:
    """Flush ``folder``'s entries to disk, so the rename survives a power cut."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _replaceable(folder: Path) -> bool:
    return folder.is_dir() and (is_report_folder(folder) or not any(folder.iterdir()))


def _absolute(out: str | Path) -> Path:
    """``out`` made absolute, its parent's links resolved but not ``out`` itself."""
    lexical = Path(os.path.abspath(out))
    if lexical.parent == lexical:  # the file system's root
        return lexical
    return lexical.parent.resolve() / lexical.name


__all__ = ["GENERATOR", "MANIFEST", "Publication", "checked_out", "is_report_folder"]
