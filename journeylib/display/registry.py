"""The analyses journeylib offers, each declared once where it is defined.

An analysis declares its public name (``jl.<name>``), a stable ``slug`` (the
key of its tables in a report, which its display title is not: "Funnel by
channel" and "Strict funnel" are both ``funnel``), its stable leading columns
(what the CLI's CSV and JSON carry), the columns of its tables that count
people (what a shared report blanks in a small cell, see
:meth:`Result.shared`) and the other charts it may offer (``result.view``).
``jl.__all__``, the CLI, the tabs of ``jl.explore`` and the tests that call
every analysis read the registry, so an analysis cannot drop out of them.

Examples
--------
>>> import journeylib as jl
>>> ANALYSES["funnel"].slug, ANALYSES["funnel"].counts
('funnel', ('users', 'sessions'))
>>> ANALYSES["journey_map"].title
'Journey map'
>>> jl.funnel.__name__ in jl.__all__
True
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import ParamSpec

from journeylib.core.errors import ParameterError
from journeylib.core.options import options
from journeylib.core.plans import Plan
from journeylib.display.result import Result

P = ParamSpec("P")


@dataclass(frozen=True)
class Analysis:
    """What an analysis declares: name, slug, stable columns, people counts, views, plans."""

    name: str
    slug: str
    columns: tuple[str, ...] = ()
    counts: tuple[str, ...] = ()
    views: tuple[str, ...] = ()
    plans: tuple[Plan, ...] = ("portable",)

    @property
    def title(self) -> str:
        """The analysis's name as a heading or tab shows it (``Journey map``)."""
        return self.name.replace("_", " ").capitalize()


#: every registered analysis by public name, in the order they were declared
ANALYSES: dict[str, Analysis] = {}


def declared(slug: str) -> Analysis:
    """The declaration of the analysis whose results carry ``slug``.

    >>> declared("retention").columns[:2]
    ('cohort', 'cohort_size')
    """
    return next(a for a in ANALYSES.values() if a.slug == slug)


def analysis(
    *,
    slug: str | None = None,
    columns: Sequence[str] = (),
    counts: Sequence[str] = (),
    views: Sequence[str] = (),
    plans: Sequence[Plan] = ("portable",),
) -> Callable[[Callable[P, Result]], Callable[P, Result]]:
    """Declare a public analysis; its results carry ``slug`` (by default the function's name).

    ``counts`` names the columns that count people: a plain name in the table
    and every extra, ``extra.column`` in that extra only (where the table's
    column of that name is not a count of people). Its results carry them,
    and :meth:`Result.shared` blanks a row where one of them is small.

    ``plans`` names the plans the analysis has (:mod:`journeylib.core.plans`):
    one with several says in ``params["plan"]`` which ran; the others' results
    get their one plan. Forcing a plan it does not have (``jl.options.plan``)
    is a ParameterError before it runs.

    >>> @analysis(counts=["users"])
    ... def demo_count() -> Result:
    ...     import pandas as pd
    ...     from journeylib.core.sql import SQL
    ...     return Result("Demo", pd.DataFrame({"users": [3]}), SQL("select 3"))
    >>> demo_count().slug
    'demo_count'
    >>> _ = ANALYSES.pop("demo_count")
    """

    def register(function: Callable[P, Result]) -> Callable[P, Result]:
        name = function.__name__
        key = slug or name
        if name in ANALYSES or any(a.slug == key for a in ANALYSES.values()):
            raise ValueError(f"analysis {name!r} or slug {key!r} is declared twice")
        entry = Analysis(name, key, tuple(columns), tuple(counts), tuple(views), tuple(plans))
        ANALYSES[name] = entry

        @functools.wraps(function)
        def run(*args: P.args, **kwargs: P.kwargs) -> Result:
            if options.plan not in ("auto", *entry.plans):
                raise ParameterError(
                    "plan",
                    options.plan,
                    allowed=["auto", *entry.plans],
                    reason=f"{name} has no {options.plan} plan (jl.options.plan).",
                )
            result = function(*args, **kwargs)
            params = {**result.params, "plan": result.params.get("plan", "portable")}
            return replace(result, slug=key, counts=entry.counts, params=params)

        return run

    return register
