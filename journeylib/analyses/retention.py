"""Retention: of the people who started in a cohort, how many came back in each period after.

Definitions (ADR 0009 compares them with the peers'):

- **Start and returning events** default to any event. A returning event counts
  only at or after the start it is measured from (a return before the start is
  never counted).
- **Cohorts.** ``cohort="first"`` (first-time, the default): each person's
  cohort is the period of their first start event ``t0``. ``"recurring"``: every
  period in which a person has a start event makes them a member of that
  period's cohort, measured from their first start event in it (so one person
  can be in several cohorts). With ``by=COLUMN`` cohorts are the column's (or
  ``properties`` key's) value at that start event instead of its period.
- **Periods.** Calendar periods by default: period k of a cohort is the k-th
  calendar day / week (Monday-based, ``date_trunc('week')``) / month after the
  period of ``t0``, in the engine's time zone (UTC in a workspace). With
  ``rolling=True`` period k is ``[t0 + k*P, t0 + (k+1)*P)`` with P = 24 hours,
  7 days or 30 days (Amplitude's fixed windows).
- **Kinds.** ``"n_day"`` ("return on"): a person counts in period k when they
  have a returning event in period k. ``"unbounded"`` ("return on or after"):
  when they have one in period k or any later period (also beyond ``periods``),
  so the curve never rises.
- **Period 0** is the cohort's own period and counts people with a returning
  event in it at or after their start event. With the default any-event
  returning the start event itself counts, so period 0 is exactly 1.0 (as in
  Amplitude and PostHog, whose day 0 is the cohort); with a different returning
  event it is the measured share who did it in the start period (Mixpanel's
  "< 1 day" bucket), rather than a constant 1.0 that would hide it.
- **Complete cells.** A cell is complete when period k has ended, for every
  member of the cohort, at or before the data's last event time. Incomplete
  cells are shown (``complete=False``) but left out of the overall row.
- **Overall row** per period (``cohort="overall"``): users and cohort sizes
  summed over the complete cells of that period only, rate = their ratio
  (Amplitude's weighted average). It is ``complete`` when at least one cohort
  contributed; otherwise its sizes are 0 and its rate is NaN.
- **Revenue** (``revenue=True``): the sum of ``revenue`` of the returning events
  that fall in period k (at or after the start), for either kind.

The cohort x period grid is :func:`journeylib.model.cohorts.retention_grid`;
only the overall rows and the labels are added here, in pandas.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ibis.expr.types as ir
import pandas as pd

from journeylib.core.errors import ParameterError, whole_number
from journeylib.core.spec import Spec, check_value
from journeylib.core.sql import SQL
from journeylib.display.registry import analysis
from journeylib.display.result import Result, lazy_chart
from journeylib.model.cohorts import (
    MAX_PERIODS,
    Cohort,
    Kind,
    Period,
    retention_grid,
)
from journeylib.model.events import Events
from journeylib.model.rules import EventRule
from journeylib.model.stages import Stages, require_events, require_stages

#: the stable columns the CLI's CSV and JSON carry, first (after ``by`` when given)
COLUMNS = ["cohort", "cohort_size", "period", "users", "rate"]
#: the overall row's ``cohort`` (and ``by``) value
OVERALL = "overall"

_RESERVED = {*COLUMNS, "complete", "revenue", "period_name"}


@analysis(
    columns=COLUMNS, counts=("cohort_size", "users"), views=("curve",), plans=("duckdb", "portable")
)
def retention(
    ev: Events,
    start: str | Sequence[str] | Stages | None = None,
    returning: str | Sequence[str] | Stages | None = None,
    period: Period = "week",
    kind: Kind = "n_day",
    *,
    periods: int = 8,
    rolling: bool = False,
    cohort: Cohort = "first",
    by: str | None = None,
    revenue: bool = False,
    with_names: bool = False,
) -> Result:
    """Share of each cohort that came back in each of ``periods`` periods after period 0.

    ``start`` / ``returning``: an event name, several (any of them), or a
    :class:`~journeylib.Stages` (any event a stage's rule picks, conditions and
    n-th occurrence included, e.g. a second purchase); None is any event. ``period``: ``day``, ``week`` or ``month``. ``kind``: ``n_day``
    (returned on period k) or ``unbounded`` (on or after period k). ``rolling``:
    24-hour / 7-day / 30-day windows from each person's start instead of
    calendar periods. ``cohort``: ``first`` or ``recurring``. ``by``: cohort by
    the value of a column (or ``properties`` key) at the start event instead of
    by period. ``revenue``: also sum the returning events' revenue per cell.
    ``with_names``: add a ``period_name`` column ("Week 0", "Day 3", ...).

    ``table`` columns: ``[by,] cohort, cohort_size, period, users, rate,
    complete[, revenue][, period_name]``, one row per cohort and period
    0..``periods`` (cohorts are ISO dates of the period's first day, or the
    ``by`` value), then one ``overall`` row per period from complete cells only.
    ``extras["matrix"]``: the rates as a cohort x period grid. ``chart()``
    draws the cohort heatmap; ``view("curve")`` the retention curves.

    Examples
    --------
    >>> import journeylib as jl, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "e.csv"
    >>> _ = path.write_text("user_id,event_name,event_time\\n"
    ...     "a,open,2024-01-01T10:00:00Z\\na,open,2024-01-02T09:00:00Z\\n"
    ...     "b,open,2024-01-01T23:00:00Z\\nb,open,2024-01-03T08:00:00Z\\n"
    ...     "c,open,2024-01-02T12:00:00Z\\nc,open,2024-01-04T12:00:00Z\\n")
    >>> ws = jl.open(); _ = ws.load_events(path)
    >>> r = retention(ws.events(), period="day", periods=2)
    >>> r.table[["cohort", "period", "users", "rate", "complete"]].values.tolist()
    [['2024-01-01', 0, 2, 1.0, True], ['2024-01-01', 1, 1, 0.5, True], ['2024-01-01', 2, 1, 0.5, True], ['2024-01-02', 0, 1, 1.0, True], ['2024-01-02', 1, 0, 0.0, True], ['2024-01-02', 2, 1, 1.0, False], ['overall', 0, 3, 1.0, True], ['overall', 1, 1, 0.3333333333333333, True], ['overall', 2, 1, 0.5, True]]
    """
    starts = _event_names(start, "start")
    returns = _event_names(returning, "returning")
    spec = RetentionSpec(
        _param(starts), _param(returns), period, kind, periods, rolling, cohort, by, revenue
    )
    check_value("with_names", with_names, bool)
    _require(ev, start, starts, returns)
    by_value = _by_value(ev, by) if by is not None else None
    plan, grid = retention_grid(
        ev,
        starts=_rules(start),
        returning=_rules(returning),
        period=period,
        kind=kind,
        periods=periods,
        rolling=rolling,
        cohort=cohort,
        by_value=by_value,
        revenue=revenue,
    )
    frame = ev.engine.run(grid, what="the retention")
    table = _table(frame, by, period, periods, revenue, with_names)
    what = "Unbounded retention" if kind == "unbounded" else "Retention"
    window = f"rolling {period}" if rolling else period
    name = f"{what} by {window}" + (f", cohorts by {by}" if by else "")
    return Result(
        name,
        table,
        SQL.of(grid),
        {**spec.params(), "plan": plan},
        draw=lazy_chart("retention", "heatmap_chart"),
        extras={"matrix": _matrix(table)},
        views={"curve": lazy_chart("retention", "curve_chart")},
    )


@dataclass(frozen=True)
class RetentionSpec(Spec):
    """The parameters of :func:`retention`, checked when made.

    ``start`` and ``returning`` are the event names they pick, None for any event.

    >>> RetentionSpec(None, None, period="weeks")
    Traceback (most recent call last):
    journeylib.core.errors.ParameterError: Invalid value 'weeks' for parameter 'period'. Allowed values: day, week, month. Did you mean 'week'?
    """

    start: tuple[str, ...] | None
    returning: tuple[str, ...] | None
    period: Period = "week"
    kind: Kind = "n_day"
    periods: int = 8
    rolling: bool = False
    cohort: Cohort = "first"
    by: str | None = None
    revenue: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        whole_number("periods", self.periods, 1, MAX_PERIODS)


def _event_names(
    events: str | Sequence[str] | Stages | None, param: str
) -> list[tuple[str, tuple[str, ...]]] | None:
    """(label, event names) pairs, or None for any event."""
    if events is None:
        return None
    if isinstance(events, Stages):
        return list(events)
    listed = [events] if isinstance(events, str) else list(events)
    if not listed or not all(isinstance(e, str) and e for e in listed):
        raise ParameterError(
            param, events, reason="Give an event name or a list of them (None for any event)."
        )
    return [(name, (name,)) for name in listed]


def _rules(events: str | Sequence[str] | Stages | None) -> list[str | EventRule] | None:
    """What picks the events: stage rules, event names, or None for any event."""
    if events is None:
        return None
    if isinstance(events, Stages):
        return [rule for _, rule in events.rules()]
    return [events] if isinstance(events, str) else list(events)


def _param(pairs: list[tuple[str, tuple[str, ...]]] | None) -> tuple[str, ...] | None:
    return None if pairs is None else tuple(e for _, events in pairs for e in events)


def _require(
    ev: Events,
    start: object,
    starts: list[tuple[str, tuple[str, ...]]] | None,
    returns: list[tuple[str, tuple[str, ...]]] | None,
) -> None:
    """Raise for a misspelt event name (an absent name far from any present one is a zero)."""
    if starts is None and returns is None:
        return
    present = ev.event_names()
    if starts is not None:
        param = "stages" if isinstance(start, Stages) else "start"
        require_events(starts, present, param=param, typos_only=True)
        if isinstance(start, Stages):
            require_stages(ev, start)
    if returns is not None:
        require_events(returns, present, param="returning", typos_only=True)


def _by_value(ev: Events, by: str) -> ir.StringValue:
    """The breakdown value: a column, or else a ``properties`` key, as text."""
    if by in _RESERVED:
        raise ParameterError("by", by, reason="This name is one of the retention table's columns.")
    return ev.value(by, param="by")


def _table(
    frame: pd.DataFrame,
    by: str | None,
    period: str,
    periods: int,
    revenue: bool,
    with_names: bool,
) -> pd.DataFrame:
    """Typed cells, the overall rows (complete cells only) and the column order."""
    frame = frame.copy()
    frame["cohort"] = frame.cohort.astype("object")
    frame["cohort_size"] = frame.cohort_size.astype("int64")
    frame["period"] = frame.period.astype("int64")
    frame["users"] = frame.users.astype("int64")
    frame["rate"] = frame.rate.astype("float64")
    frame["complete"] = frame.complete.fillna(False).astype("bool")
    frame["revenue"] = frame.revenue.astype("float64")
    done = frame[frame.complete]
    rows = []
    for k in range(periods + 1):
        cells = done[done.period == k]
        size = int(cells.cohort_size.sum())
        users = int(cells.users.sum())
        rows.append(
            {
                "cohort": OVERALL,
                "cohort_size": size,
                "period": k,
                "users": users,
                "rate": users / size if size else float("nan"),
                "complete": size > 0,
                "revenue": float(cells.revenue.sum()),
            }
        )
    overall = pd.DataFrame(rows).astype(
        {"cohort_size": "int64", "period": "int64", "users": "int64", "complete": "bool"}
    )
    table = pd.concat([frame, overall], ignore_index=True) if len(frame) else frame
    keys: list[str] = []
    if by is not None:
        table.insert(0, by, table.cohort)
        keys = [by]
    columns = [*keys, *COLUMNS, "complete"]
    if revenue:
        columns.append("revenue")
    if with_names:
        unit = "Day" if period == "day" else period.capitalize()
        table["period_name"] = [f"{unit} {k}" for k in table.period]
        columns.append("period_name")
    return table[columns].reset_index(drop=True)


def _matrix(table: pd.DataFrame) -> pd.DataFrame:
    """Rates as one row per cohort (overall last) and one column per period."""
    if table.empty:
        return pd.DataFrame({"cohort": pd.Series(dtype="object")})
    wide = table.pivot(index="cohort", columns="period", values="rate")
    order = [*[c for c in table.cohort.unique() if c != OVERALL], OVERALL]
    wide = wide.reindex([c for c in order if c in wide.index])
    wide.columns = [f"period_{k}" for k in wide.columns]
    return wide.reset_index()


__all__ = ["COLUMNS", "retention"]
