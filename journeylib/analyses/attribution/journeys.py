"""Journeys as a path summary: distinct channel paths with conversions, nulls and value.

This is the small table every attribution model reads, whether it came from
events (built in the engine, :mod:`journeylib.analyses.attribution.touchpoints`) or from
a path-summary table: ``path`` (channels joined by ``" > "``), ``conversions``,
``nulls`` and an optional ``value``, the format of ChannelAttribution and of
exported "conversion paths" reports.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from journeylib.core.errors import DataError

#: the channel of a conversion with no touch in its lookback window
DIRECT = "(direct)"
#: separator between channels in a path string
SEPARATOR = ">"


@dataclass(frozen=True)
class Journeys:
    """Distinct paths with their conversions, non-conversions (nulls) and conversion value.

    Examples
    --------
    >>> j = Journeys.from_frame(pd.DataFrame(
    ...     {"path": ["a > b", "b", ""], "conversions": [2, 1, 1], "nulls": [0, 3, 0]}))
    >>> j.paths
    (('(direct)',), ('a', 'b'), ('b',))
    >>> j.total_conversions, j.channels
    (4.0, ('(direct)', 'a', 'b'))
    """

    paths: tuple[tuple[str, ...], ...]
    conversions: np.ndarray
    nulls: np.ndarray
    value: np.ndarray

    @classmethod
    def build(
        cls,
        paths: Sequence[Sequence[str]],
        conversions: Sequence[float],
        nulls: Sequence[float],
        value: Sequence[float] | None = None,
    ) -> Journeys:
        """Journeys from parallel sequences; an empty converting path becomes ``(direct)``.

        Rows with the same path are merged; empty paths with no conversion are dropped.
        """
        merged: dict[tuple[str, ...], list[float]] = {}
        values = value if value is not None else [0.0] * len(paths)
        for path, conv, null, val in zip(paths, conversions, nulls, values, strict=True):
            key = tuple(path) or (DIRECT,)
            if not path and not conv:
                continue
            totals = merged.setdefault(key, [0.0, 0.0, 0.0])
            totals[0] += float(conv)
            totals[1] += float(null)
            totals[2] += float(val)
        keys = tuple(sorted(merged))
        table = np.array([merged[k] for k in keys], dtype="float64").reshape(len(keys), 3)
        return cls(keys, table[:, 0], table[:, 1], table[:, 2])

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, source: str = "paths") -> Journeys:
        """Journeys from a path-summary table, checked row by row.

        ``path`` holds channels separated by ``>`` (spaces around it are
        ignored); ``conversions`` and ``nulls`` are non-negative counts (``nulls``
        may be missing); ``value`` is optional revenue per path. Errors name
        ``source``, or the file a frame from :func:`read_path_summary` came from.

        >>> Journeys.from_frame(pd.DataFrame({"path": ["a > b"], "conversions": [2]})).conversions
        array([2.])
        """
        source = str(frame.attrs.get("source", source))
        for required in ("path", "conversions"):
            if required not in frame.columns:
                raise DataError(
                    f"a path summary needs a {required!r} column; it has {list(frame.columns)}",
                    file=source,
                    field=required,
                )
        paths = [_split(text, row, source) for row, text in enumerate(frame["path"], start=1)]
        counts = {
            name: _numbers(frame, name, source)
            for name in ("conversions", "nulls", "value")
            if name in frame.columns
        }
        size = len(frame)
        return cls.build(
            paths,
            counts["conversions"],
            counts.get("nulls", [0.0] * size),
            counts.get("value"),
        )

    @property
    def total_conversions(self) -> float:
        """Conversions over every path."""
        return float(self.conversions.sum())

    @property
    def total_value(self) -> float:
        """Conversion value over every path."""
        return float(self.value.sum())

    @property
    def channels(self) -> tuple[str, ...]:
        """Every channel on some path, sorted."""
        return tuple(sorted({c for path in self.paths for c in path}))

    def converting(self) -> Iterator[tuple[tuple[str, ...], float, float]]:
        """(path, conversions, value) of each path with conversions."""
        for path, conv, val in zip(self.paths, self.conversions, self.value, strict=True):
            if conv > 0:
                yield path, float(conv), float(val)

    def to_frame(self) -> pd.DataFrame:
        """The path summary as a table: ``path``, ``conversions``, ``nulls``, ``value``."""
        return pd.DataFrame(
            {
                "path": [" > ".join(p) for p in self.paths],
                "conversions": self.conversions,
                "nulls": self.nulls,
                "value": self.value,
            }
        )


def read_path_summary(path: str | Path) -> pd.DataFrame:
    """A path-summary CSV (``path``, ``conversions``, ``nulls``, optional ``value``) as a table.

    Examples
    --------
    >>> import tempfile
    >>> file = Path(tempfile.mkdtemp()) / "paths.csv"
    >>> _ = file.write_text("path,conversions,nulls\\nEmail > Direct,3,1\\n")
    >>> Journeys.from_frame(read_path_summary(file), source=str(file)).paths
    (('Email', 'Direct'),)
    """
    source = Path(path)
    if not source.is_file():
        raise DataError("file not found", file=str(source))
    try:
        frame = pd.read_csv(
            source,
            dtype={"path": "string"},
            keep_default_na=False,
            na_values={"conversions": [""], "nulls": [""], "value": [""]},
        )
    except (ValueError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read the path summary: {err}", file=str(source)) from None
    frame.attrs["source"] = str(source)
    return frame


def _split(text: object, row: int, source: str) -> tuple[str, ...]:
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ()
    if not isinstance(text, str):
        raise DataError(
            f"a path is text like 'a > b', not {text!r}", file=source, row=row, field="path"
        )
    parts = [part.strip() for part in text.split(SEPARATOR)]
    if parts == [""]:
        return ()
    if any(not part for part in parts):
        raise DataError(f"empty channel name in path {text!r}", file=source, row=row, field="path")
    return tuple(parts)


def _numbers(frame: pd.DataFrame, name: str, source: str) -> list[float]:
    """Non-negative numbers; a missing ``value`` is 0, a missing count is an error."""
    numbers = pd.to_numeric(frame[name], errors="coerce")
    for row, (raw, number) in enumerate(zip(frame[name], numbers, strict=True), start=1):
        missing = pd.isna(raw)
        if (missing and name != "value") or (not missing and not number >= 0):
            raise DataError(f"{raw!r} is not a number >= 0", file=source, row=row, field=name)
    return [0.0 if pd.isna(n) else float(n) for n in numbers]


__all__ = ["DIRECT", "Journeys", "read_path_summary"]
