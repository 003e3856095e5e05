"""Settings that change how journeylib runs, never what it computes: ``jl.options``.

As with ``ibis.options``, set an attribute for the rest of the session, or
change it for a block with :func:`option_context`. Each value is checked when
set. ADR 0032.

- ``plan``: ``"auto"`` (the fastest plan the engine supports for the inputs)
  or the name of one plan (``"portable"``, ``"duckdb"``), which must then
  take them (see :mod:`journeylib.core.plans`).

Examples
--------
>>> options.plan
'auto'
>>> with option_context(plan="portable"):
...     options.plan
'portable'
>>> options.plan = "fastest"
Traceback (most recent call last):
journeylib.core.errors.ParameterError: Invalid value 'fastest' for parameter 'plan'. Allowed values: auto, portable, duckdb.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, get_type_hints

from journeylib.core.errors import ParameterError
from journeylib.core.spec import check_value

#: ``auto`` or one plan by name (the plan names of :mod:`journeylib.core.plans`)
PlanChoice = Literal["auto", "portable", "duckdb"]


@dataclass
class Options:
    """journeylib's settings; each is checked when set (see the module)."""

    plan: PlanChoice = "auto"

    def __setattr__(self, name: str, value: Any) -> None:
        hints = get_type_hints(type(self))
        if name not in hints:
            raise ParameterError("option", name, allowed=list(hints))
        check_value(name, value, hints[name])
        super().__setattr__(name, value)


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
    before = Options(**vars(options))
    try:
        for name, value in changes.items():
            setattr(options, name, value)
        yield options
    finally:
        for name, value in vars(before).items():
            setattr(options, name, value)


__all__ = ["Options", "PlanChoice", "option_context", "options"]
