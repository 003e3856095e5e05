"""Plans: the ways an analysis can be computed, and the choice of the one that runs.

Every analysis has a ``portable`` plan: an Ibis expression any engine runs
(DuckDB, Spark, a warehouse). A heavy one may also have an engine-native plan,
named after its engine (``duckdb``), that is faster there and may cover only
some inputs: it returns None for the rest. :func:`choose` builds the plan the
option ``plan`` (:data:`journeylib.core.options.options`) asks for: under
``"auto"`` the native plan of the engine in use when it takes the inputs,
else the portable one; a named plan must take them. ``Result.params["plan"]``
says which ran, and a test runs every analysis under each of its plans on the
oracle logs and compares the tables. ADR 0032.

Examples
--------
>>> from journeylib.core.options import option_context
>>> plans = {"duckdb": lambda: "native", "portable": lambda: "general"}
>>> choose("duckdb", plans), choose("spark", plans)
(('duckdb', 'native'), ('portable', 'general'))
>>> with option_context(plan="portable"):
...     choose("duckdb", plans)
('portable', 'general')
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Literal, TypeVar

from journeylib.core.errors import ParameterError
from journeylib.core.options import options

#: a plan's name: ``portable`` runs anywhere; any other is the engine it is native to
Plan = Literal["portable", "duckdb"]
#: the order ``auto`` tries them in: native before portable
PREFERENCE: tuple[Plan, ...] = ("duckdb", "portable")

T = TypeVar("T")


def choose(engine: str, plans: Mapping[Plan, Callable[[], T | None]]) -> tuple[Plan, T]:
    """The plan that runs and what it built, from ``{plan: build}`` for the inputs at hand.

    A build returns None for inputs its plan does not cover; a native plan is
    only tried on its own engine. A plan forced by the option that cannot run
    is a ParameterError naming the plans that can.

    >>> from journeylib.core.options import option_context
    >>> with option_context(plan="duckdb"):
    ...     choose("duckdb", {"duckdb": lambda: None, "portable": lambda: "general"})
    Traceback (most recent call last):
    journeylib.core.errors.ParameterError: Invalid value 'duckdb' for parameter 'plan'. The duckdb plan does not cover these inputs on this engine (duckdb). Allowed values: auto, portable.
    """
    forced = options.plan
    tried = PREFERENCE if forced == "auto" else (forced,)
    for name in tried:
        build = plans.get(name)
        if build is None or name not in ("portable", engine):
            continue
        built = build()
        if built is not None:
            return name, built
    if forced == "auto":
        raise ValueError(f"no plan of {sorted(plans)} runs on {engine}: a portable plan must")
    runnable = [name for name in PREFERENCE if name in plans and name in ("portable", engine)]
    where = "these inputs on this engine" if forced in plans else "this analysis"
    raise ParameterError(
        "plan",
        forced,
        allowed=["auto", *[n for n in runnable if n != forced]],
        reason=f"The {forced} plan does not cover {where} ({engine}).",
    )


__all__ = ["PREFERENCE", "Plan", "choose"]
