"""The analyses journeylib offers, each declared once where it is defined.

An analysis declares its public name (``jl.<name>``), a stable ``slug`` (the
key of its tables in a report, which its display title is not: "Funnel by
channel" and "Strict funnel" are both ``funnel``), its stable leading columns
and which columns count people (what a shared report must blank in a small
cell). ``jl.__all__`` and the tests that call every analysis read the
registry, so an analysis cannot drop out of them.

Examples
--------
>>> import journeylib as jl
>>> ANALYSES["funnel"].slug, ANALYSES["funnel"].counts
('funnel', ('users', 'sessions'))
>>> jl.funnel.__name__ in jl.__all__
True
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import ParamSpec

from journeylib.display.result import Result

P = ParamSpec("P")


@dataclass(frozen=True)
class Analysis:
    """What an analysis declares: its name, slug, stable columns and people-count columns."""

    name: str
    slug: str
    columns: tuple[str, ...] = ()
    counts: tuple[str, ...] = ()


#: every registered analysis by public name, in the order they were declared
ANALYSES: dict[str, Analysis] = {}


def analysis(
    *, slug: str | None = None, columns: Sequence[str] = (), counts: Sequence[str] = ()
) -> Callable[[Callable[P, Result]], Callable[P, Result]]:
    """Declare a public analysis; its results carry ``slug`` (by default the function's name).

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
        ANALYSES[name] = Analysis(name, key, tuple(columns), tuple(counts))

        @functools.wraps(function)
        def run(*args: P.args, **kwargs: P.kwargs) -> Result:
            return replace(function(*args, **kwargs), slug=key)

        return run

    return register
