"""Ad spend exports into ``spend`` (date, channel, campaign, cost, currency).

Three layouts, recognised from the header (or forced with ``format=``):

- ``google_ads``: a Google Ads campaign report, ``Day, Campaign, Campaign type,
  Currency code, Cost, ...``; the channel follows the campaign type: Search,
  Shopping and Performance Max are Paid Search, Display is Display, Video is
  Video, Demand Gen (feeds of YouTube, Discover and Gmail) is Paid Social;
- ``meta``: a Meta Ads export, ``Reporting starts, Reporting ends, Campaign name,
  Amount spent (USD), ...``; channel Paid Social, currency from the header;
- ``generic``: ``date, channel, campaign, cost, currency``.

Channel names are journeylib's channel-group names, so spend joins attributed
channels. Costs may carry thousands separators (``1,234.50``). Rows dedupe on
(date, channel, campaign): a restated row in a later export keeps the first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from journeylib.core.engine import Engine
from journeylib.core.errors import ParameterError
from journeylib.core.sql import literal
from journeylib.loading import pipeline
from journeylib.loading.sources.tabular import Field, column, header, stage

FIELDS = [
    Field("date", "date", required=True),
    Field("channel", required=True),
    Field("campaign"),
    Field("cost", "number", required=True),
    Field("currency"),
]
FORMATS = ("auto", "google_ads", "meta", "generic")
GOOGLE_ADS_CHANNELS = {
    "search": "Paid Search",
    "shopping": "Paid Search",
    "performance max": "Paid Search",
    "display": "Display",
    "video": "Video",
    "demand gen": "Paid Social",
}


def detect(columns: list[str]) -> str:
    """The layout of a spend export from its header.

    Examples
    --------
    >>> detect(["Day", "Campaign", "Campaign type", "Cost"])
    'google_ads'
    >>> detect(["Reporting starts", "Campaign name", "Amount spent (EUR)"])
    'meta'
    """
    if "Campaign type" in columns and "Day" in columns:
        return "google_ads"
    if any(c.startswith("Amount spent") for c in columns):
        return "meta"
    return "generic"


def load(
    engine: Engine, path: Path, *, format: str, mapping: Mapping[str, str] | None
) -> pipeline.FileReport:
    """Load one spend export (all or nothing) into ``spend``.

    Examples
    --------
    >>> import tempfile, journeylib as jl
    >>> path = Path(tempfile.mkdtemp()) / "meta.csv"
    >>> _ = path.write_text("Reporting starts,Reporting ends,Campaign name,Amount spent (EUR)\\n"
    ...                     "2024-03-01,2024-03-01,Spring,\\"1,250.50\\"\\n")
    >>> ws = jl.open()
    >>> _ = ws.load_spend(path)
    >>> ws.sql("select channel, cost, currency from spend").values.tolist()
    [['Paid Social', 1250.5, 'EUR']]
    """
    if format not in FORMATS:
        raise ParameterError("format", format, allowed=FORMATS)
    columns = header(engine, path)
    layout = detect(columns) if format == "auto" else format
    defaults, derived = _layout(layout, columns)
    staged, checks = stage(engine, path, FIELDS, defaults, mapping, derived=derived)
    return pipeline.load_file(
        engine,
        path,
        source=f"spend:{layout}",
        target="spend",
        staged=lambda: staged,
        columns=[f.name for f in FIELDS],
        key=["date", "channel", "campaign"],
        checks=lambda _: checks,
    )


def _layout(layout: str, columns: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    if layout == "google_ads":
        cases = " ".join(
            f"when {literal(k)} then {literal(v)}" for k, v in GOOGLE_ADS_CHANNELS.items()
        )
        channel = f"coalesce(case lower(trim({column('Campaign type')})) {cases} end, 'Unassigned')"
        return {
            "date": "Day",
            "campaign": "Campaign",
            "cost": "Cost",
            "currency": "Currency code",
        }, {"channel": channel}
    if layout == "meta":
        amount = next((c for c in columns if c.startswith("Amount spent")), "Amount spent")
        found = re.search(r"\(([A-Z]{3})\)", amount)
        currency = literal(found.group(1)) if found else "null::varchar"
        return {"date": "Reporting starts", "campaign": "Campaign name", "cost": amount}, {
            "channel": "'Paid Social'",
            "currency": currency,
        }
    return {f.name: f.name for f in FIELDS}, {}
