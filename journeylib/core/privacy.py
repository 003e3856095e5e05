"""What a shared report may show (ADR 0013).

Reports are read beyond the analyst, so a result shared in one lists no user
ids unless asked to, and a row counting fewer than ``min_cell_size`` people
(but some) has its figures blanked and is marked ``suppressed``: a breakdown
group of two, or a path one person took, cannot be traced back to them.

:func:`journeylib.faces.report.run_report` shares every displayed result this way
(``min_cell_size=5`` by default): it sets ``jl.options.min_cell_size`` and
``show_user_ids`` in the report's kernel. In a notebook, ``result.shared()``
does it on request.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from journeylib.core.errors import whole_number

#: the columns that count people in a result no analysis declared (one made by hand)
USUAL_COUNTS = ("users", "sessions", "people", "cohort_size", "base", "count", "observations")
#: columns that name a person
ID_COLUMNS = ("user_id", "anonymous_id", "user")
#: numeric columns that place a row rather than measure it: never blanked
POSITION_COLUMNS = ("step", "step_index", "stage_index", "period", "rank", "steps", "persona")


def shared_table(
    table: pd.DataFrame,
    min_cell_size: int = 5,
    *,
    counts: Sequence[str],
    show_user_ids: bool = False,
) -> pd.DataFrame:
    """``table`` as a shared report shows it: small cells suppressed and marked, no user ids.

    ``counts`` names the columns that count people (each analysis declares
    its own; those missing from ``table`` are skipped). A row is suppressed
    when one of them is at least 1 and below ``min_cell_size``: its measures
    (counts, rates, times, revenue) are blanked, its labels kept, and
    ``suppressed`` is True. ``min_cell_size=0`` suppresses nothing.

    Examples
    --------
    >>> table = pd.DataFrame({"user_id": ["a", "b"], "channel": ["Email", "SMS"],
    ...                       "users": [40, 2], "rate": [0.5, 1.0]})
    >>> shared_table(table, counts=["users"]).values.tolist()
    [['Email', 40, 0.5, False], ['SMS', <NA>, nan, True]]
    >>> gaps = pd.DataFrame({"people": [9, 9], "reached_next": pd.array([2, None], "Int64")})
    >>> shared_table(gaps, counts=["people", "reached_next"]).suppressed.tolist()
    [True, False]
    """
    whole_number("min_cell_size", min_cell_size, minimum=0)
    shown = table if show_user_ids else table.drop(columns=[c for c in ID_COLUMNS if c in table])
    present = [c for c in counts if c in shown and pd.api.types.is_numeric_dtype(shown[c])]
    if not present or min_cell_size <= 1:
        return shown
    small = pd.Series(False, index=shown.index)
    for column in present:
        count = shown[column]  # a missing count (no next stage) is not a small one
        small |= ((count >= 1) & (count < min_cell_size)).fillna(False).astype(bool)
    measures = [
        c
        for c in shown.columns
        if pd.api.types.is_numeric_dtype(shown[c])
        and not pd.api.types.is_bool_dtype(shown[c])
        and c not in POSITION_COLUMNS
    ]
    out = shown.copy()
    for column in measures:
        whole = pd.api.types.is_integer_dtype(out[column])
        out[column] = out[column].astype("Int64" if whole else "float64").mask(small)
    out["suppressed"] = small
    return out


def visible(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of a shared table that are not suppressed (what its charts draw).

    Examples
    --------
    >>> table = shared_table(pd.DataFrame({"step": ["a", "b"], "users": [30, 3]}), counts=["users"])
    >>> visible(table).step.tolist()
    ['a']
    """
    if "suppressed" not in table.columns:
        return table
    return table[~table.suppressed.astype(bool)].drop(columns="suppressed")


__all__ = [
    "ID_COLUMNS",
    "USUAL_COUNTS",
    "shared_table",
    "visible",
]
