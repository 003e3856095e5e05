"""Retention: of the people who started in a cohort, how many came back in each period after.

Definitions (DESIGN.md §6, SEMANTICS.md §2.3):

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

Everything up to the cohort x period grid is one Ibis expression (portable: no
ordered aggregates, no date_diff; periods are found by comparing timestamps
with intervals). Only the overall rows and the labels are added in pandas. On
DuckDB in UTC, first-time calendar cohorts of any event without revenue (the
common case) take a faster plan, :func:`_fast_grid`, with the same cells.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pandas as pd

from journeylib.core.durations import epoch_us
from journeylib.core.errors import ParameterError, whole_number
from journeylib.core.sql import SQL
from journeylib.display.result import Result, lazy_chart
from journeylib.model.events import Events
from journeylib.model.rules import EventRule, picked
from journeylib.model.stages import Stages, require_events, require_stages

PERIODS = ("day", "week", "month")
KINDS = ("n_day", "unbounded")
COHORTS = ("first", "recurring")
#: the CLI's stable columns come first (DESIGN.md §5), after ``by`` when given
COLUMNS = ["cohort", "cohort_size", "period", "users", "rate"]
#: the overall row's ``cohort`` (and ``by``) value
OVERALL = "overall"
#: the most periods after period 0 (each is a branch of one CASE expression)
MAX_PERIODS = 400

_TRUNCATE = {"day": "D", "week": "W", "month": "M"}
_ROLLING_DAYS = {"day": 1, "week": 7, "month": 30}
_RESERVED = {*COLUMNS, "complete", "revenue", "period_name"}


def retention(
    ev: Events,
    start: str | Sequence[str] | Stages | None = None,
    returning: str | Sequence[str] | Stages | None = None,
    period: str = "week",
    kind: str = "n_day",
    *,
    periods: int = 8,
    rolling: bool = False,
    cohort: str = "first",
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
    _check(period, kind, periods, rolling, cohort, revenue, with_names)
    starts = _event_names(start, "start")
    returns = _event_names(returning, "returning")
    _require(ev, start, starts, returns)
    by_value = _by_value(ev, by) if by is not None else None
    grid = retention_grid(
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
    params: dict[str, Any] = {
        "start": _param(starts),
        "returning": _param(returns),
        "period": period,
        "kind": kind,
        "periods": periods,
        "rolling": rolling,
        "cohort": cohort,
        "by": by,
        "revenue": revenue,
    }
    what = "Unbounded retention" if kind == "unbounded" else "Retention"
    window = f"rolling {period}" if rolling else period
    name = f"{what} by {window}" + (f", cohorts by {by}" if by else "")
    return Result(
        name,
        table,
        SQL.of(grid),
        params,
        draw=lazy_chart("retention", "heatmap_chart"),
        extras={"matrix": _matrix(table)},
        views={"curve": lazy_chart("retention", "curve_chart")},
    )


def _check(
    period: str,
    kind: str,
    periods: int,
    rolling: bool,
    cohort: str,
    revenue: bool,
    with_names: bool,
) -> None:
    if period not in PERIODS:
        raise ParameterError("period", period, allowed=PERIODS)
    if kind not in KINDS:
        raise ParameterError("kind", kind, allowed=KINDS)
    if cohort not in COHORTS:
        raise ParameterError("cohort", cohort, allowed=COHORTS)
    whole_number("periods", periods, 1, MAX_PERIODS)
    for name, flag in (("rolling", rolling), ("revenue", revenue), ("with_names", with_names)):
        if not isinstance(flag, bool):
            raise ParameterError(name, flag, allowed=[True, False])


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


def _param(pairs: list[tuple[str, tuple[str, ...]]] | None) -> list[str] | None:
    return None if pairs is None else [e for _, events in pairs for e in events]


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


def _step(period: str, rolling: bool) -> Callable[[int], ir.IntervalScalar]:
    """``j`` periods as an interval: calendar days / weeks / months, or 24 h / 7 d / 30 d."""
    if rolling:
        days = _ROLLING_DAYS[period]
        return lambda j: ibis.interval(days=days * j)
    if period == "month":
        return lambda j: ibis.interval(months=j)
    days = 7 if period == "week" else 1
    return lambda j: ibis.interval(days=days * j)


def _bounded(members: ir.Table, step: Callable[[int], ir.IntervalScalar], periods: int) -> ir.Table:
    """``members`` with where each of its periods 1..``periods + 1`` begins (``_b1``, ``_b2``...).

    Calendar arithmetic on time-zone-aware timestamps is costly: done once per
    member here, not once per (member, returning event) pair in the join.
    """
    return members.mutate(**{f"_b{k}": members.anchor + step(k) for k in range(1, periods + 2)})


def _index(t: ir.TimestampValue, table: ir.Table, periods: int) -> ir.IntegerValue:
    """The period of ``t >= anchor``: k when ``_b{k} <= t < _b{k+1}``; ``periods + 1`` beyond."""
    branches = [
        (t < table[f"_b{k + 1}"], ibis.literal(k, type="int32")) for k in range(periods + 1)
    ]
    return ibis.cases(*branches, else_=ibis.literal(periods + 1, type="int32"))


#: the fast plan (:func:`_fast_grid`) may be used; tests turn it off to compare both plans
FAST = True
#: bits per word of a person's period mask (1 << 61 is the highest bit set, clear of the sign)
_WORD = 62
#: the most mask words (so up to 496 periods between the data's first and last event)
_MAX_WORDS = 8
_DAY_US = 86_400_000_000
_UTC = {"UTC", "Etc/UTC", "GMT", "Etc/GMT", "Etc/UCT", "UCT", "Universal", "Zulu", "Etc/Zulu"}


def _period_key(t: ir.TimestampValue, period: str) -> ir.IntegerValue:
    """The calendar period of ``t`` (in UTC) as a whole number: days, Monday weeks or months since 1970."""
    if period == "month":
        return (t.year().cast("int64") * 12 + t.month().cast("int64") - 1).cast("int64")
    days = epoch_us(t) // _DAY_US
    return (days + 3) // 7 if period == "week" else days


def _period_start(key: ir.IntegerValue, period: str) -> ir.TimestampValue:
    """Where the period numbered ``key`` (see :func:`_period_key`) begins, in UTC."""
    if period == "month":
        begins = ibis.date(key // 12, key % 12 + 1, 1)
        return begins.cast(dt.Timestamp(timezone="UTC"))
    days = key * 7 - 3 if period == "week" else key
    return (days * 86_400).as_timestamp("s").cast(dt.Timestamp(timezone="UTC"))


def _fast_words(ev: Events, period: str) -> tuple[int, int, int] | None:
    """(first and last period numbers, mask words) when :func:`_fast_grid` applies, else None.

    It needs DuckDB in UTC (periods are computed from epoch microseconds) and
    at most ``_MAX_WORDS`` words of periods between the first and last event.
    """
    if not FAST or ev.engine.name != "duckdb":
        return None
    if ev.engine.scalar("select current_setting('TimeZone')") not in _UTC:
        return None
    t = ev.table
    span = t.aggregate(lo=t.event_time.min(), hi=t.event_time.max())
    span = span.select(lo=_period_key(span.lo, period), hi=_period_key(span.hi, period))
    lo, hi = ev.engine.run(span, what="the retention's time span").iloc[0]
    if pd.isna(lo) or pd.isna(hi):
        return None
    words = (int(hi) - int(lo)) // _WORD + 1
    return (int(lo), int(hi), words) if words <= _MAX_WORDS else None


def _fast_grid(
    ev: Events, period: str, kind: str, periods: int, base: int, last: int, words: int
) -> ir.Table:
    """:func:`retention_grid` for first-time calendar cohorts of any event, without revenue.

    With any event starting and returning, a person's start is their first
    event, so every event is a return at or after it: one pass over the events
    groups them by person into the first period number and a bit mask of the
    periods with an event (bit ``p - base``, in ``words`` 62-bit words), or the
    last period number (unbounded), instead of joining every event back to its
    person. Period k of a person counts when bit ``first + k`` is set (n_day)
    or ``last >= first + k`` (unbounded). Periods are whole numbers from epoch
    microseconds (no calendar arithmetic per event); ``complete`` is computed
    per cohort as in the general plan.
    """
    t = ev.table
    t = t.filter(t.user_id.notnull())
    key = _period_key(t.event_time, period)
    rel = key - base
    one = ibis.literal(1, type="int64")
    if words == 1:
        masks = {"_m0": (one << rel).bit_or()}
    else:
        none = ibis.literal(0, type="int64")
        masks = {
            f"_m{j}": ibis.ifelse(rel // _WORD == j, one << (rel % _WORD), none).bit_or()
            for j in range(words)
        }
    if kind == "unbounded":
        people = t.group_by("user_id").aggregate(_first=key.min(), _last=key.max())
    elif words == 1:
        # the first period is the mask's lowest bit (m & -m is a power of two, log2 exact)
        people = t.group_by("user_id").aggregate(**masks)
        lowest = (people._m0 & -people._m0).log2().round().cast("int64")
        people = people.mutate(_first=lowest + base)
    else:
        people = t.group_by("user_id").aggregate(_first=key.min(), **masks)

    def reached(k: int) -> ir.IntegerValue:
        if kind == "unbounded":
            return ibis.ifelse(people._last - people._first >= k, 1, 0)
        at = people._first - base + k
        bits = [(at // _WORD == j, (people[f"_m{j}"] >> (at % _WORD)) & 1) for j in range(words)]
        return ibis.cases(*bits, else_=ibis.literal(0, type="int64"))

    cohorts = people.group_by("_first").aggregate(
        cohort_size=people.count(), **{f"_u{k}": reached(k).sum() for k in range(periods + 1)}
    )
    cohorts = cohorts.mutate(_anchor=_period_start(cohorts._first, period))
    cohorts = cohorts.mutate(_k=ibis.range(periods + 1)).unnest("_k")
    returned = ibis.cases(
        *[(cohorts._k == k, cohorts[f"_u{k}"]) for k in range(periods + 1)]
    ).fill_null(0)
    # period k has ended by the last event (period number ``last``) when period k + 1
    # began at or before it: the general plan's ``anchor + step(k + 1) <= data_end``
    complete = cohorts._first + cohorts._k + 1 <= last
    out = cohorts.select(
        cohort=cohorts._anchor.date().cast("string"),
        cohort_size=cohorts.cohort_size.cast("int64"),
        period=cohorts._k.cast("int32"),
        users=returned.cast("int64"),
        rate=returned.cast("float64") / cohorts.cohort_size.cast("float64"),
        complete=complete,
        revenue=ibis.literal(0.0, type="float64"),
    )
    return out.order_by(["cohort", "period"])


def cohort_members(
    ev: Events,
    starts: Sequence[str | EventRule] | None,
    *,
    period: str = "week",
    rolling: bool = False,
    cohort: str = "first",
    by_value: ir.StringValue | None = None,
) -> ir.Table:
    """One row per cohort membership: ``user``, ``t0`` (start), ``anchor``, ``cohort``.

    First-time: one row per person at their first start event. Recurring: one
    row per person and period with a start event, at their first start in it.
    ``anchor`` is where period 0 begins (the calendar period's start, or ``t0``
    when rolling); ``cohort`` is the period's first day as an ISO date, or the
    ``by_value`` at ``t0`` ("(none)" when missing).

    Examples
    --------
    >>> import journeylib as jl
    >>> cohort_members(jl.open().events(), None).columns
    ('user', 't0', 'anchor', 'cohort')
    """
    t = ev.table
    t = t.filter(t.user_id.notnull())
    begun = picked(t, starts) if starts is not None else t
    if by_value is None:
        # without a breakdown only the first start's time matters: a grouped minimum
        # (NULLs last, as the ordered row_number below) instead of sorting every event
        if cohort == "first":
            firsts = begun.group_by("user_id").aggregate(t0=begun.event_time.min())
            firsts = firsts.mutate(_period=firsts.t0.truncate(_TRUNCATE[period]))
        else:
            keyed = begun.mutate(_period=begun.event_time.truncate(_TRUNCATE[period]))
            firsts = keyed.group_by(["user_id", "_period"]).aggregate(t0=keyed.event_time.min())
        return firsts.select(
            user=firsts.user_id,
            t0=firsts.t0,
            anchor=firsts.t0 if rolling else firsts._period,
            cohort=firsts._period.date().cast("string"),
        )
    begun = begun.mutate(
        _period=begun.event_time.truncate(_TRUNCATE[period]),
        _value=by_value if by_value is not None else ibis.null("string"),
    )
    keys = ["user_id"] if cohort == "first" else ["user_id", "_period"]
    rank = ibis.row_number().over(group_by=keys, order_by=["event_time", "event_id"])
    ranked = begun.mutate(_rank=rank)
    firsts = ranked.filter(ranked._rank == 0)
    label = (
        firsts._value.fill_null("(none)")
        if by_value is not None
        else firsts._period.date().cast("string")
    )
    return firsts.select(
        user=firsts.user_id,
        t0=firsts.event_time,
        anchor=firsts.event_time if rolling else firsts._period,
        cohort=label,
    )


def retention_grid(
    ev: Events,
    *,
    starts: Sequence[str | EventRule] | None = None,
    returning: Sequence[str | EventRule] | None = None,
    period: str = "week",
    kind: str = "n_day",
    periods: int = 8,
    rolling: bool = False,
    cohort: str = "first",
    by_value: ir.StringValue | None = None,
    revenue: bool = True,
) -> ir.Table:
    """The cohort x period grid as one expression, ordered by cohort and period.

    Columns: ``cohort``, ``cohort_size``, ``period`` (0..periods), ``users``,
    ``rate``, ``complete`` and ``revenue`` (of returning events in the period;
    0.0 throughout when ``revenue=False``, which may take a faster plan).

    Examples
    --------
    >>> import journeylib as jl
    >>> retention_grid(jl.open().events(), periods=2).columns
    ('cohort', 'cohort_size', 'period', 'users', 'rate', 'complete', 'revenue')
    """
    plain = starts is None and returning is None and by_value is None
    if plain and not revenue and not rolling and cohort == "first":
        words = _fast_words(ev, period)
        if words is not None:
            return _fast_grid(ev, period, kind, periods, *words)
    step = _step(period, rolling)
    members = cohort_members(
        ev, starts, period=period, rolling=rolling, cohort=cohort, by_value=by_value
    )
    t = ev.table
    t = t.filter(t.user_id.notnull())
    back = picked(t, returning) if returning is not None else t
    back = back.select(ruser=back.user_id, rt=back.event_time, rrev=back.revenue.cast("float64"))
    # the grid: every cohort x period, complete when the last member's period has ended
    # (by the data's last event: one aggregate joined on, not a subquery per period)
    sizes = members.group_by("cohort").aggregate(
        cohort_size=members.count(), last_anchor=members.anchor.max()
    )
    sizes = sizes.cross_join(ev.table.aggregate(data_end=ev.table.event_time.max()))
    grid = ibis.union(
        *[
            sizes.select(
                "cohort",
                "cohort_size",
                period=ibis.literal(k, type="int32"),
                complete=(sizes.last_anchor + step(k + 1)) <= sizes.data_end,
            )
            for k in range(periods + 1)
        ],
        distinct=False,
    )

    # returns within the horizon: distinct (membership, period) with its revenue
    bounded = _bounded(members, step, periods)
    joined = bounded.join(
        back,
        [
            bounded.user == back.ruser,
            back.rt >= bounded.t0,
            back.rt < bounded[f"_b{periods + 1}"],
        ],
    )
    hits = joined.select(
        "cohort",
        "user",
        "t0",
        period=_index(joined.rt, joined, periods),
        rev=joined.rrev,
    )
    per_member = hits.group_by(["cohort", "user", "t0", "period"]).aggregate(rev=hits.rev.sum())
    cells = per_member.group_by(["cohort", "period"]).aggregate(
        on=per_member.count(), money=per_member.rev.sum()
    )

    if kind == "unbounded":
        # the latest return decides the latest period reached (periods + 1: beyond the horizon)
        last = back.group_by("ruser").aggregate(last=back.rt.max())
        reach = bounded.join(last, [bounded.user == last.ruser, last["last"] >= bounded.t0])
        reached = reach.select("cohort", k=_index(reach["last"], reach, periods))
        counts = reached.group_by(["cohort", "k"]).aggregate(n=reached.count())
        ahead = grid.join(
            counts, [grid.cohort == counts.cohort, counts.k >= grid.period], how="left"
        )
        users = ahead.group_by([grid.cohort, grid.period]).aggregate(after=ahead.n.sum())
        grid = grid.left_join(users, ["cohort", "period"]).select(
            grid, returned=users.after.fill_null(0)
        )
    else:
        on = cells.select("cohort", "period", "on")
        grid = grid.left_join(on, ["cohort", "period"]).select(grid, returned=on.on.fill_null(0))

    money = cells.select("cohort", "period", "money")
    full = grid.left_join(money, ["cohort", "period"]).select(grid, money=money.money)
    out = full.select(
        "cohort",
        cohort_size=full.cohort_size.cast("int64"),
        period=full.period,
        users=full.returned.cast("int64"),
        rate=full.returned.cast("float64") / full.cohort_size.cast("float64"),
        complete=full.complete,
        revenue=full.money.fill_null(0.0).cast("float64"),
    )
    return out.order_by(["cohort", "period"])


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


__all__ = ["cohort_members", "retention", "retention_grid"]
