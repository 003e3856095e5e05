"""ga4 export reader (being written)."""

from __future__ import annotations

from pathlib import Path

from journeylib.engine import Engine
from journeylib.errors import DataError
from journeylib.sources import ReadOptions, Staged


def read(engine: Engine, path: Path, options: ReadOptions) -> Staged:
    """Stage a ga4 export."""
    raise DataError("the ga4 reader is not written yet", file=str(path))
