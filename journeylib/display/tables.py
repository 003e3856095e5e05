"""Result tables as people read them: percentages, durations, thousands, no NaN.

The numbers stay as they are in ``Result.table`` (and in the CSV and Parquet a
report writes); only the HTML shown in a notebook, a panel or a report is
formatted. A column's format follows its name, as the analyses name them:

- ``*rate*``, ``*share*``, ``conversion*``, ``*_low``/``*_high`` of a rate,
  ``retention``, ``credit_share``: a percentage, when every value is in [0, 1];
- ``*seconds*`` and ``*hours*``: a duration (``4m 12s``, ``2h 05m``, ``7d 0h``);
- ``p_value``: two significant digits; other decimals: up to two places;
- whole numbers: thousands separated; times: to the minute, with their zone;
- a missing value: ``–``.
"""

from __future__ import annotations

import html
import math
import re
from typing import Any, cast

import pandas as pd

#: how a missing value reads
MISSING = "–"
_CELL = "padding:2px 10px;white-space:nowrap;"
_RATE = re.compile(r"rate|share|conversion|retention|percent|probability|_low$|_high$")


def duration_text(seconds: float) -> str:
    """A duration as people say it, to two units.

    Examples
    --------
    >>> [duration_text(s) for s in (0.4, 42, 59.7, 252, 7500, 604_799.5, 93_784)]
    ['0s', '42s', '1m 00s', '4m 12s', '2h 05m', '7d 0h', '1d 2h']
    """
    if seconds >= 86_400 - 1_800:  # to the hour: 604,799.5 s is 7d 0h, not 6d 23h
        days, hours = divmod(round(seconds / 3_600), 24)
        return f"{days}d {hours}h"
    if seconds >= 3_600 - 30:  # to the minute
        hours, minutes = divmod(round(seconds / 60), 60)
        return f"{hours}h {minutes:02d}m"
    if seconds >= 59.5:
        minutes, secs = divmod(round(seconds), 60)
        return f"{minutes}m {secs:02d}s"
    return f"{round(seconds)}s"


def formatted(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with every cell as the text it is shown as.

    Examples
    --------
    >>> t = pd.DataFrame({"step": ["view", "buy"], "users": [3000, 2143],
    ...     "conversion_rate": [1.0, 0.71433], "median_seconds_from_previous": [None, 252.0],
    ...     "odds_ratio": [1.23456, 16370.4], "p_value": [0.000123, 0.5]})
    >>> formatted(t).values.tolist()
    [['view', '3,000', '100.0%', '–', '1.23', '0.00012'], ['buy', '2,143', '71.4%', '4m 12s', '16,370.40', '0.5']]
    """
    return pd.DataFrame({name: _column(str(name), table[name]) for name in table.columns})


def table_html(table: pd.DataFrame, max_rows: int = 50) -> str:
    """The formatted table as HTML, at most ``max_rows`` rows (and a line saying how many more).

    Cells are padded and numbers right-aligned by inline styles, which every
    viewer keeps (a notebook, a widget, a report, a mail client).

    Examples
    --------
    >>> print(table_html(pd.DataFrame({"k": ["a", "b", "c"], "v": [1, 2, None]}), max_rows=2))
    ... # doctest: +ELLIPSIS
    <div ...><table ...><thead><tr><th ...>k</th><th ...>v</th></tr></thead><tbody><tr><td ...>a</td><td ...>1</td></tr>...</table><p>...1 more row of 3...</p></div>
    """
    head = table.head(max_rows)
    shown = formatted(head)
    numeric = [pd.api.types.is_numeric_dtype(head[c]) for c in head.columns]
    align = ["right" if n else "left" for n in numeric]
    header = "".join(
        f'<th style="{_CELL}text-align:{a};border-bottom:1px solid #999">{html.escape(str(c))}</th>'
        for c, a in zip(shown.columns, align, strict=True)
    )
    rows = "".join(
        "<tr>"
        + "".join(
            f'<td style="{_CELL}text-align:{a}">{html.escape(v)}</td>'
            for v, a in zip(row, align, strict=True)
        )
        + "</tr>"
        for row in shown.itertuples(index=False)
    )
    more = len(table) - len(shown)
    tail = (
        f"<p><small>{more:,} more row{'s' if more != 1 else ''} of {len(table):,}:"
        " the whole table is in <code>.table</code>.</small></p>"
        if more > 0
        else ""
    )
    return (
        '<div class="journeylib-table" style="max-width:100%;max-height:420px;overflow:auto">'
        '<table style="border-collapse:collapse;font-size:12px">'
        f"<thead><tr>{header}</tr></thead><tbody>{rows}</tbody></table>{tail}</div>"
    )


def _column(name: str, values: pd.Series) -> list[str]:
    if pd.api.types.is_bool_dtype(values):
        return [MISSING if pd.isna(v) else str(bool(v)) for v in values]
    if pd.api.types.is_datetime64_any_dtype(values):
        return [
            MISSING if pd.isna(v) else pd.Timestamp(v).strftime("%Y-%m-%d %H:%M %Z").strip()
            for v in values
        ]
    if not pd.api.types.is_numeric_dtype(values):
        return [MISSING if _missing(v) else str(v) for v in values]
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    present = numbers.dropna()
    if "seconds" in name:
        return [MISSING if math.isnan(v) else duration_text(v) for v in numbers]
    if "hours" in name:
        return [MISSING if math.isnan(v) else duration_text(v * 3600) for v in numbers]
    if _RATE.search(name) and present.between(0, 1).all():
        return [MISSING if math.isnan(v) else f"{v:.1%}" for v in numbers]
    if name == "p_value" or name.endswith("_p_value"):
        return [MISSING if math.isnan(v) else f"{v:.2g}" for v in numbers]
    if (present == present.round()).all():
        return [MISSING if math.isnan(v) else f"{v:,.0f}" for v in numbers]
    return [MISSING if math.isnan(v) else f"{v:,.2f}" for v in numbers]


def _missing(value: object) -> bool:
    try:
        return bool(pd.isna(cast(Any, value)))
    except (TypeError, ValueError):  # a list or an array is a value, not a missing one
        return False


__all__ = ["MISSING", "duration_text", "formatted", "table_html"]
