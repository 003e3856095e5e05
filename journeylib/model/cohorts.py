"""Cohorts and the cohort x period grid of returning people.

Retention's definitions are in :mod:`journeylib.analyses.retention`.

Everything up to the grid is one Ibis expression (portable: no ordered
aggregates, no date_diff; periods are found by comparing timestamps with
intervals): the portable plan. On DuckDB in UTC, first-time calendar cohorts
of any event without revenue (the common case) take the ``duckdb`` plan,
:func:`_fast_grid`, with the same cells. Retention reads the grid; segment comparisons read it per segment.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal, get_args

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pandas as pd

from journeylib.core.durations import epoch_us
from journeylib.core.plans import Plan, choose
from journeylib.model.events import Events
from journeylib.model.rules import EventRule, picked

Period = Literal["day", "week", "month"]
PERIODS: tuple[str, ...] = get_args(Period)


Kind = Literal["n_day", "unbounded"]
KINDS: tuple[str, ...] = get_args(Kind)


Cohort = Literal["first", "recurring"]
COHORTS: tuple[str, ...] = get_args(Cohort)


#: the most periods after period 0 (each is a branch of one CASE expression)
MAX_PERIODS = 400


_ROLLING_DAYS = {"day": 1, "week": 7, "month": 30}


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

    It needs a session in UTC (periods are computed from epoch microseconds)
    and at most ``_MAX_WORDS`` words of periods between the first and last event.
    """
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
) -> tuple[Plan, ir.Table]:
    """The plan chosen and the cohort x period grid as one expression, ordered by cohort and period.

    Columns: ``cohort``, ``cohort_size``, ``period`` (0..periods), ``users``,
    ``rate``, ``complete`` and ``revenue`` (of returning events in the period;
    with ``revenue=False`` it is not wanted, and the ``duckdb`` plan leaves it
    0.0). Plans (see
    :mod:`journeylib.core.plans`): ``duckdb`` (:func:`_fast_grid`) takes
    first-time calendar cohorts of any event without revenue on DuckDB in UTC;
    ``portable`` (:func:`_general_grid`) takes everything.

    Examples
    --------
    >>> import journeylib as jl
    >>> plan, grid = retention_grid(jl.open().events(), periods=2)
    >>> plan, grid.columns
    ('portable', ('cohort', 'cohort_size', 'period', 'users', 'rate', 'complete', 'revenue'))
    """

    def native() -> ir.Table | None:
        plain = starts is None and returning is None and by_value is None
        if not plain or revenue or rolling or cohort != "first":
            return None
        words = _fast_words(ev, period)
        return None if words is None else _fast_grid(ev, period, kind, periods, *words)

    def portable() -> ir.Table:
        return _general_grid(
            ev, starts, returning, period, kind, periods, rolling, cohort, by_value
        )

    return choose(ev.engine.name, {"duckdb": native, "portable": portable})


def _general_grid(
    ev: Events,
    starts: Sequence[str | EventRule] | None,
    returning: Sequence[str | EventRule] | None,
    period: str,
    kind: str,
    periods: int,
    rolling: bool,
    cohort: str,
    by_value: ir.StringValue | None,
) -> ir.Table:
    """:func:`retention_grid`'s portable plan: members joined to their returning events."""
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


_TRUNCATE = {"day": "D", "week": "W", "month": "M"}
