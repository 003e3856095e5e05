"""Readers for vendor exports: each turns one file into a *staged* SELECT.

A reader never writes: it returns :class:`Staged` (SQL text, bound
parameters, and the source's field names for messages). The load pipeline in
:mod:`journeylib.loading.pipeline` runs it inside a transaction, applies the checks,
sends bad rows to ``rejected`` and inserts the rest.

Every event reader's SELECT yields exactly :data:`EVENT_STAGING` columns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from journeylib.core.engine import Engine

#: Columns an event reader's SELECT must produce, in this order.
#: ``_row`` is the 1-based row (line) in the file (NULL when the pipeline
#: numbers the rows, see :attr:`Staged.positional_rows`), ``_raw`` the row as text,
#: ``_reject_field``/``_reject_reason`` a problem the reader found itself,
#: ``_time_raw`` the timestamp as written, ``_time_naive`` whether it had no
#: zone, ``_revenue_raw`` the revenue as written.
EVENT_STAGING: tuple[str, ...] = (
    "_row",
    "_raw",
    "_reject_field",
    "_reject_reason",
    "event_id",
    "user_id",
    "anonymous_id",
    "event_time",
    "_time_raw",
    "_time_naive",
    "event_name",
    "session_id",
    "channel",
    "source",
    "medium",
    "campaign",
    "revenue",
    "_revenue_raw",
    "properties",
)


@dataclass(frozen=True)
class ReadOptions:
    """What a reader needs besides the file: a column mapping, a time zone, a CSV delimiter."""

    mapping: Mapping[str, str] = field(default_factory=dict)
    tz: str | None = None
    #: the CSV field separator; None sniffs it from the file
    delimiter: str | None = None


@dataclass(frozen=True)
class Staged:
    """A reader's output: a SELECT over the file and how to talk about its fields."""

    sql: str
    params: list[object]
    #: canonical column -> the field name in the export, for error messages
    fields: Mapping[str, str]
    #: True when reading the file again is cheap (a columnar file): the load
    #: pipeline then stages the rows as a view over the file instead of
    #: materialising them, and reads only the columns each step needs.
    rereadable: bool = False
    #: True when ``_row`` is NULL in the SELECT, whose rows come one per row of
    #: the file in file order (a NULL ``_raw`` marks a blank line: counted, not
    #: loaded). The pipeline numbers them by position as it stages them, which
    #: keeps the read on every core; ``row_number() over ()`` in the SELECT
    #: would hold it to one.
    positional_rows: bool = False


EventReader = Callable[["Engine", Path, ReadOptions], Staged]


def event_readers() -> dict[str, EventReader]:
    """The event readers by ``source`` name.

    Examples
    --------
    >>> sorted(event_readers())[:2]
    ['amplitude', 'csv']
    """
    from journeylib.loading.sources import amplitude, ga4, generic, mixpanel, segment

    return {
        "csv": generic.read,
        "parquet": generic.read,
        "ga4": ga4.read,
        "segment": segment.read,
        "mixpanel": mixpanel.read,
        "amplitude": amplitude.read,
    }
