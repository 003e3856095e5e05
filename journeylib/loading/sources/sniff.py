"""Which kind of export a file looks like, from its first record.

Used to say what went wrong when no row of a file could be loaded under the
``source`` given: a CSV loaded as GA4, a Segment file loaded as Mixpanel.
Each vendor's export has fields no other has (GA4's ``event_params``,
Segment's ``messageId``, Mixpanel's ``properties.distinct_id``, Amplitude's
``event_type``), so the first record tells them apart.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from journeylib.loading.sources.common import is_parquet

#: How much of a file is read to recognise it.
HEAD_BYTES = 1 << 16

_SEGMENT_TYPES = {"track", "page", "screen", "identify", "group", "alias"}


def likely_source(path: Path) -> str | None:
    """The ``source`` the file most likely is, or None when it cannot be read.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.ndjson").write_text('{"event_type": "open", "device_id": "d1"}\\n')
    >>> likely_source(folder / "a.ndjson")
    'amplitude'
    >>> _ = (folder / "b.csv").write_text("user_id,event,ts\\nu1,open,2024-01-01\\n")
    >>> likely_source(folder / "b.csv")
    'csv'
    """
    try:
        if is_parquet(path):
            return _parquet_kind(path)
        head = _head(path)
    except (OSError, EOFError, ValueError):
        return None
    first = next((line.strip() for line in head.splitlines() if line.strip()), "")
    if not first:
        return None
    if first.startswith(("{", "[")):
        return _json_kind(first.lstrip("[").rstrip(",]"))
    return "csv"


def advice(path: Path, source: str) -> str:
    """A sentence naming the source ``path`` looks like, when it is not ``source``.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "events.csv"
    >>> _ = path.write_text("user_id,event,ts\\nu1,open,2024-01-01\\n")
    >>> advice(path, "ga4")
    "It looks like a csv export: load it with --source csv (source='csv' in Python), with a --mapping for its columns if they are not named user_id, event_name and event_time."
    >>> advice(path, "csv")
    ''
    """
    likely = likely_source(path)
    if likely is None or likely == source or {likely, source} == {"csv", "parquet"}:
        return ""
    text = f"It looks like a {likely} export: load it with --source {likely} (source={likely!r} in Python)"
    if likely in {"csv", "parquet"}:
        text += (
            ", with a --mapping for its columns if they are not named user_id, event_name"
            " and event_time"
        )
    return text + "."


def _head(path: Path) -> str:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as handle:
        return handle.read(HEAD_BYTES).decode("utf-8", errors="replace")


def _json_kind(text: str) -> str | None:
    try:
        record = json.loads(text)
    except ValueError:
        return None  # the first record is longer than the head, or not JSON
    if not isinstance(record, dict):
        return None
    keys = set(record)
    properties = record.get("properties")
    if "event_timestamp" in keys and keys & {"event_params", "user_pseudo_id"}:
        return "ga4"
    if "messageId" in keys or record.get("type") in _SEGMENT_TYPES:
        return "segment"
    if "event" in keys and isinstance(properties, dict) and "distinct_id" in properties:
        return "mixpanel"
    if "event_type" in keys and keys & {"device_id", "amplitude_id", "user_id"}:
        return "amplitude"
    return None


def _parquet_kind(path: Path) -> str:
    import pyarrow.parquet as pq

    names = set(pq.read_schema(path).names)
    return "ga4" if {"event_params", "event_timestamp"} <= names else "parquet"


__all__ = ["advice", "likely_source"]
