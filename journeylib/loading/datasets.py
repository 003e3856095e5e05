"""The bundled sample exports of Northwind Outfitters (see data/README.md).

The files live in the repository's ``data/sample`` folder and are regenerated
with ``python data/generate.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from journeylib.core.errors import DataError

if TYPE_CHECKING:
    from journeylib.loading.pipeline import LoadReport
    from journeylib.loading.workspace import Workspace


def sample_dir() -> Path:
    """The folder of the bundled sample exports.

    Examples
    --------
    >>> (sample_dir() / "stories.json").exists()
    True
    """
    folder = Path(__file__).resolve().parents[2] / "data" / "sample"
    if not folder.is_dir():
        raise DataError(
            "the sample exports are not here: they ship with the repository checkout (data/sample)",
            file=str(folder),
        )
    return folder


def sample_files() -> dict[str, list[Path]]:
    """The sample exports grouped by the loader that reads them.

    Examples
    --------
    >>> sorted(sample_files())
    ['deals', 'ga4', 'nps', 'segment', 'spend', 'tickets']
    """
    root = sample_dir()
    return {
        "ga4": sorted((root / "ga4").glob("events_*.ndjson.gz")),
        "segment": [root / "segment" / "app_events.jsonl"],
        "deals": [root / "crm" / "deals.csv"],
        "spend": sorted((root / "spend").glob("*.csv")),
        "nps": [root / "survey" / "nps.csv"],
        "tickets": [root / "support" / "tickets.csv"],
    }


def load_sample(ws: Workspace) -> dict[str, LoadReport]:
    """Load every sample export into ``ws`` through the public loaders.

    Examples
    --------
    >>> import journeylib as jl
    >>> reports = load_sample(jl.open())
    >>> sum(r.rejected for r in reports.values())
    0
    """
    files = sample_files()
    return {
        "ga4": ws.load_events(files["ga4"], source="ga4"),
        "segment": ws.load_events(files["segment"], source="segment"),
        "deals": ws.load_deals(files["deals"]),
        "spend": ws.load_spend(files["spend"]),
        "nps": ws.load_feedback(files["nps"], kind="nps"),
        "tickets": ws.load_feedback(files["tickets"], kind="ticket"),
    }


def sample_or(db: str | Path | None = None) -> Workspace:
    """The workspace at ``db`` (read-only), or the sample loaded in memory when ``db`` is empty.

    Examples
    --------
    >>> sample_or("").info()["users"]
    3000
    """
    from journeylib.loading.workspace import open as open_workspace

    if db:
        return open_workspace(db, read_only=True)
    ws = open_workspace()
    load_sample(ws)
    return ws
