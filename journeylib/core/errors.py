"""Errors that speak the analyst's language.

Every error journeylib raises on purpose derives from :class:`JourneyError`.
Bad data raises :class:`DataError` (naming the file, row and field), a bad
argument raises :class:`ParameterError` (naming the parameter, the value, what
is allowed and the closest match), a workspace that cannot be opened as asked
raises :class:`WorkspaceError`, and a failure inside the engine is wrapped
in :class:`EngineError` so no DuckDB stack trace reaches the user.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class JourneyError(Exception):
    """Base class of every error journeylib raises on purpose."""


class DataError(ValueError, JourneyError):
    """Input data that cannot be used as it is.

    Examples
    --------
    >>> err = DataError("not a timestamp", file="e.csv", row=3, field="event_time")
    >>> str(err)
    'e.csv, row 3, field event_time: not a timestamp'

    ``cli`` is the same message as the command line says it (``--mapping
    FILE`` where Python says ``mapping=``); :attr:`cli_message` gives it.

    >>> DataError("map it with mapping=", cli="map it with --mapping FILE", file="e.csv").cli_message
    'e.csv: map it with --mapping FILE'
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        field: str | None = None,
        expected: str | None = None,
        cli: str | None = None,
    ) -> None:
        self.file, self.row, self.field, self.expected = file, row, field, expected
        where = [
            part
            for part in (
                file,
                f"row {row}" if row is not None else None,
                f"field {field}" if field is not None else None,
            )
            if part
        ]
        located = f"{', '.join(where)}: " if where else ""
        tail = f" (expected {expected})" if expected else ""
        self.message = f"{located}{message}{tail}"
        self.cli_message = f"{located}{cli if cli is not None else message}{tail}"
        super().__init__(self.message)


class ParameterError(ValueError, JourneyError):
    """An argument outside what a function accepts.

    Examples
    --------
    >>> err = ParameterError("mode", "orderd", allowed=["ordered", "strict"])
    >>> str(err)
    "Invalid value 'orderd' for parameter 'mode'. Allowed values: ordered, strict. Did you mean 'ordered'?"
    """

    def __init__(
        self,
        param: str,
        value: object,
        *,
        allowed: Iterable[object] | None = None,
        reason: str | None = None,
    ) -> None:
        self.param, self.value = param, value
        self.allowed = [str(a) for a in allowed] if allowed is not None else None
        self.suggestion = closest(str(value), self.allowed) if self.allowed else None
        text = f"Invalid value {value!r} for parameter {param!r}."
        if reason:
            text += f" {reason}"
        if self.allowed is not None:
            text += f" Allowed values: {', '.join(self.allowed)}."
        if self.suggestion:
            text += f" Did you mean {self.suggestion!r}?"
        super().__init__(text)


class WorkspaceError(JourneyError):
    """A workspace that cannot be used as asked: missing, held by another process, not DuckDB.

    Examples
    --------
    >>> isinstance(WorkspaceError("No workspace at w.duckdb"), JourneyError)
    True
    """


class EngineError(RuntimeError, JourneyError):
    """The engine failed while running an analysis or a load."""


def whole_number(param: str, value: object, minimum: int = 1, maximum: int | None = None) -> int:
    """``value`` when it is a whole number in range, else a ParameterError saying the range.

    Examples
    --------
    >>> whole_number("top", 5)
    5
    >>> whole_number("periods", 0, 1, 400)
    Traceback (most recent call last):
    journeylib.core.errors.ParameterError: Invalid value 0 for parameter 'periods'. Give a whole number from 1 to 400.
    """
    in_range = maximum is None or (isinstance(value, int) and value <= maximum)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or not in_range:
        span = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"
        raise ParameterError(param, value, reason=f"Give a whole number {span}.")
    return value


def closest(value: str, candidates: Iterable[str]) -> str | None:
    """Return the candidate closest to ``value``, or None when nothing is close.

    Examples
    --------
    >>> closest("purchse", ["page_view", "purchase"])
    'purchase'
    """
    matches = difflib.get_close_matches(value, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None
