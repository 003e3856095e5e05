"""The folder a report is published into, and what may never be taken for one.

A report run replaces its ``out`` folder as a whole, so before anything runs
:func:`checked_out` makes sure that replacing it can lose nothing of the
user's: ``out`` must be new, empty, or a report folder this tool wrote
(recognised by its ``manifest.json``), and never the home folder, the current
folder, or a folder holding the notebook or a file the run reads.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from journeylib.errors import ParameterError

MANIFEST = "manifest.json"
GENERATOR = "journeylib report"


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
    journeylib.errors.ParameterError: Invalid value ... for parameter 'out'. It exists and is not a report folder ...
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
    if target.is_symlink() or (target.exists() and not _replaceable(target)):
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


def _replaceable(folder: Path) -> bool:
    return folder.is_dir() and (is_report_folder(folder) or not any(folder.iterdir()))


def _absolute(out: str | Path) -> Path:
    """``out`` made absolute, its parent's links resolved but not ``out`` itself."""
    lexical = Path(os.path.abspath(out))
    if lexical.parent == lexical:  # the file system's root
        return lexical
    return lexical.parent.resolve() / lexical.name


__all__ = ["GENERATOR", "MANIFEST", "checked_out", "is_report_folder"]
