"""Settings that change how journeylib runs, never what it computes: ``jl.options``.

As with ``ibis.options``, set an attribute for the rest of the session, or
change some for a block with :func:`option_context`. Each value is checked
when set. A report run sets them in its kernel explicitly, in a first cell it
adds (see :func:`journeylib.faces.report.run_report`). ADR 0032 and 0033.

- ``plan``: ``"auto"`` (the fastest plan the engine supports for the inputs)
  or the name of one plan (``"portable"``, ``"duckdb"``), which must then
  take them (see :mod:`journeylib.core.plans`).
- ``min_cell_size``: None in a notebook; in a shared report, results are
  displayed shared (:meth:`journeylib.Result.shared`): rows counting fewer
  people than this are blanked, and ``show_user_ids`` says whether user id
  columns stay.
- ``progress``: DuckDB's progress bar on long queries: ``"auto"`` (shown in
  Jupyter and on a terminal), ``"on"`` or ``"off"`` (a report's setting).
- ``read_only``: every workspace file opens read-only (``report --read-only``).

Examples
--------
>>> options.plan
'auto'
>>> with option_context(plan="portable", min_cell_size=5):
...     options.plan, options.min_cell_size
('portable', 5)
>>> options.plan = "fastest"
Traceback (most recent call last):
journeylib.core.errors.ParameterError: Invalid value 'fastest' for parameter 'plan'. Allowed values: auto, portable, duckdb.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any, Literal, get_type_hints

from journeylib.core.errors import ParameterError, whole_number
from journeylib.core.spec import check_value

#: ``auto`` or one plan by name (the plan names of :mod:`journeylib.core.plans`)
PlanChoice = Literal["auto", "portable", "duckdb"]
#: when DuckDB draws its progress bar
Progress = Literal["auto", "on", "off"]


@dataclass
class Options:
    """journeylib's settings; each is checked when set (see the module)."""

    plan: PlanChoice = "auto"
    min_cell_size: int | None = None
    show_user_ids: bool = False
    progress: Progress = "auto"
    read_only: bool = False

    def __setattr__(self, name: str, value: Any) -> None:
        hints = get_type_hints(type(self))
        if name not in hints:
            raise ParameterError("option", name, allowed=list(hints))
        if name == "min_cell_size" and value is not None:
            whole_number(name, value, minimum=0)
        check_value(name, value, hints[name])
        super().__setattr__(name, value)

    def sharing(self) -> tuple[int, bool] | None:
        """``(min_cell_size, show_user_ids)`` when results are displayed shared, else None.

        >>> with option_context(min_cell_size=5):
        ...     options.sharing()
        (5, False)
        """
        return None if self.min_cell_size is None else (self.min_cell_size, self.show_user_ids)


#: the settings in force (``jl.options``)
options = Options()


@contextmanager
def option_context(**changes: Any) -> Iterator[Options]:
    """Change some options within the block; they are restored after it, whatever happens.

    >>> with option_context(plan="duckdb") as current:
    ...     current.plan
    'duckdb'
    >>> options.plan
    'auto'
    """
    before = asdict(options)
    try:
        for name, value in changes.items():
            setattr(options, name, value)
        yield options
    finally:
        for name, value in before.items():
            setattr(options, name, value)


__all__ = ["Options", "PlanChoice", "Progress", "option_context", "options"]
