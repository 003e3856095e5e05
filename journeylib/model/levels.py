"""Each unit's best level in a funnel, with exact, switchable semantics (ADR 0006, 0012).

A unit (a person, or a session with ``unit="session"``) reaches step k when
events matching steps 1..k exist in order within the window; its level is the
best over every step-1 event (every attempt). Modes:

- ``ordered`` (default; ClickHouse ``windowFunnel``'s default, PostHog):
  t1 <= t2 <= ... <= tk and tk - t1 <= window (inclusive). Events at the same
  time count in step order, and an event matching two consecutive steps may
  fill both, exactly as ``windowFunnel`` does.
- ``strict``: like ordered, with no other event of the unit between
  consecutive steps. A unit's events are in (time, first step they match,
  event id) order, events matching no step last among equal times.
- ``strict_increase``: like ordered, with t_k > t_(k-1).
- ``unordered``: the first k steps all happen within one window, in any order.
- ``window_from="previous_step"`` (GA4): each step within the window of the one
  before, instead of from the entry (ordered modes).
- ``step_within``: a window per step from the step before it (Amplitude's and
  Mixpanel's per-step conversion windows), on top of ``within``.

A step is an event name or, through :class:`~journeylib.Stages`, an event rule
with property conditions and an n-th occurrence (:mod:`journeylib.model.rules`).

The levels are computed in the engine in small named steps: the step events,
then one chain per step in which each attempt takes the earliest later event
of the next step (a running minimum over a window, portable to Spark), with
every reachable event kept when windows run from the previous step or per
step, and the very next event of the unit taken in strict mode. Units
whose best attempt could still go on when the data ends are reported as
``in_progress`` at the next step, not as dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, get_args

import ibis
import ibis.expr.types as ir

from journeylib.core.durations import Duration, interval, parse_duration
from journeylib.core.errors import ParameterError
from journeylib.core.spec import Spec
from journeylib.model.events import Events, Unit
from journeylib.model.rules import EventRule
from journeylib.model.stages import Stages, require_events

Mode = Literal["ordered", "strict", "strict_increase", "unordered"]
WindowFrom = Literal["entry", "previous_step"]
MODES: tuple[str, ...] = get_args(Mode)
#: whose value a breakdown takes: the best attempt's entry, its last step, or step N
BY_VALUES = ("first", "last", "step:N")


@dataclass(frozen=True)
class StepsSpec(Spec):
    """What every funnel-family analysis is asked: its steps, window, mode, unit and window start.

    >>> StepsSpec(("view", "buy"), "1d", unit="session").params()["unit"]
    'session'
    >>> StepsSpec(("view", "buy"), "1d", window_from="previous")
    Traceback (most recent call last):
    journeylib.core.errors.ParameterError: Invalid value 'previous' for parameter 'window_from'. Allowed values: entry, previous_step. Did you mean 'previous_step'?
    """

    steps: tuple[str, ...]
    within: Duration
    mode: Mode = "ordered"
    unit: Unit = "user"
    window_from: WindowFrom = "entry"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.mode == "unordered" and self.window_from != "entry":
            raise ParameterError(
                "window_from", self.window_from, reason="An unordered funnel has one window."
            )
        parse_duration(self.within, param="within")

    @property
    def window(self) -> timedelta:
        """``within`` as a timedelta."""
        return parse_duration(self.within, param="within")


def count_column(unit: str) -> str:
    """The funnel table's count column for ``unit``: ``users``, or ``sessions``.

    >>> count_column("session")
    'sessions'
    """
    return "sessions" if unit == "session" else "users"


def step_rules(steps: Sequence[str] | Stages) -> list[tuple[str, EventRule]]:
    """(label, rule) per step: an event name, or a stage's rule.

    Examples
    --------
    >>> [(label, rule.events) for label, rule in step_rules(["view", "buy"])]
    [('view', ('view',)), ('buy', ('buy',))]
    """
    pairs: list[tuple[str, EventRule]] = (
        steps.rules()
        if isinstance(steps, Stages)
        else [(str(s), EventRule((str(s),))) for s in steps]
    )
    if isinstance(steps, str) or len(pairs) < 2:
        raise ParameterError(
            "steps", steps, reason="Give two or more event names (or stages), in order."
        )
    return pairs


def check_by_value(by_value: str, size: int) -> None:
    """A ParameterError unless ``by_value`` is ``first``, ``last`` or ``step:N`` of ``size`` steps.

    >>> check_by_value("step:2", 3)
    """
    if by_value not in BY_VALUES[:2]:
        _step_number(by_value, size)


def require_steps(ev: Events, pairs: Sequence[tuple[str, EventRule]], param: str = "steps") -> None:
    """A ParameterError for a step whose events are all absent while a present name is close."""
    names = [(label, rule.events) for label, rule in pairs]
    require_events(names, ev.event_names(), param=param, typos_only=True)


def listed_windows(windows: Sequence[Duration] | Duration) -> list[Duration]:
    """Per-step windows as a list: one window given alone is a list of one.

    >>> listed_windows("1h")
    ['1h']
    """
    return [windows] if isinstance(windows, str | timedelta) else list(windows)


def step_windows(
    step_within: Sequence[Duration] | None, size: int, mode: str
) -> list[timedelta] | None:
    """Checked per-step windows: one per step after the first.

    Examples
    --------
    >>> step_windows(["1h", "2d"], 3, "ordered")
    [datetime.timedelta(seconds=3600), datetime.timedelta(days=2)]
    """
    if step_within is None:
        return None
    listed = listed_windows(step_within)
    if mode == "unordered":
        raise ParameterError(
            "step_within", step_within, reason="An unordered funnel has one window."
        )
    if len(listed) != size - 1:
        raise ParameterError(
            "step_within",
            step_within,
            reason=f"Give one window per step after the first ({size - 1}).",
        )
    return [parse_duration(w, param="step_within") for w in listed]


def _step_rows(t: ir.Table, rules: Sequence[EventRule], key: str, keep: Sequence[str]) -> ir.Table:
    """One row per (event, step it matches): ``unit``, ``t``, ``step`` (1-based) and ``keep``.

    An event matching two steps yields two rows.
    """
    parts = [
        rule.rows(t)
        .filter(lambda r: r[key].notnull())
        .select(*keep, unit=key, t="event_time", step=ibis.literal(index, type="int32"))
        for index, rule in enumerate(rules, start=1)
    ]
    return ibis.union(*parts, distinct=False)


def _positioned(t: ir.Table, rules: Sequence[EventRule], key: str) -> ir.Table:
    """Events numbered ``pos`` per unit in (time, first step matched, event id) order."""
    first_step = ibis.cases(
        *[(rule.matches(t), index) for index, rule in enumerate(rules, start=1)],
        else_=len(rules) + 1,
    )
    ranked = t.filter(t[key].notnull()).mutate(_first_step=first_step)
    order = ibis.row_number().over(group_by=key, order_by=["event_time", "_first_step", "event_id"])
    return ranked.mutate(pos=order).drop("_first_step")


def unit_levels(
    ev: Events,
    steps: Sequence[str | Sequence[str] | EventRule],
    window: timedelta,
    mode: str = "ordered",
    *,
    unit: str = "user",
    window_from: str = "entry",
    step_within: Sequence[timedelta] | None = None,
    by: str | None = None,
    by_value: str = "first",
    exclude: Sequence[str] = (),
) -> ir.Table:
    """Each unit's best level, its best attempt's step times and whether it is in progress.

    Columns: ``unit``, ``level``, ``t1``..``tK`` (NULL beyond the level),
    ``in_progress`` and, with ``by``, the unit's value on the attempt's step
    chosen by ``by_value``. A unit whose best attempt has an ``exclude`` event
    strictly between its first and last reached step is left out altogether.
    """
    rules = [EventRule.parse(step) for step in steps]
    key = "user_id" if unit == "user" else "session_id"
    t = ev.table
    keep = []
    if by is not None:
        t = t.mutate(_by=_breakdown(ev, by))
        keep = ["_by", "event_id"]
    span = interval(window)
    spans = [interval(w) for w in step_within] if step_within else None
    if mode == "strict":
        t = _positioned(t, rules, key)
        keep.append("pos")
    rows = _step_rows(t, rules, key, keep)
    windows = Windows(span, spans, from_previous=window_from == "previous_step")
    if mode == "unordered":
        attempts = _unordered(rows, len(steps), span)
    else:
        attempts = _ordered(
            rows,
            len(steps),
            windows,
            increase=mode == "strict_increase",
            adjacent=mode == "strict",
        )
    data_end = ev.table.event_time.max().as_scalar()
    best = _best(attempts, len(steps), windows, data_end)
    if mode == "strict":
        # an attempt goes on only from the unit's latest event
        last = t.group_by(unit=key).aggregate(last_pos=t.pos.max())
        joined = best.left_join(last, "unit")
        best = joined.select(
            *[best[c] for c in best.columns if c not in ("in_progress", "p")],
            in_progress=best.in_progress & (best.p == last.last_pos),
        )
    if exclude:
        best = _without_excluded(ev, best, exclude, len(steps), unit)
    if by is None:
        return best
    return _with_breakdown(best, rows, len(steps), by, by_value)


def _breakdown(ev: Events, by: str) -> ir.StringValue:
    if by in ("unit", "level", "in_progress") or (by.startswith("t") and by[1:].isdigit()):
        raise ParameterError("by", by, reason="This name is one of the funnel's own columns.")
    return ev.value(by, param="by")


def _with_breakdown(best: ir.Table, rows: ir.Table, size: int, by: str, by_value: str) -> ir.Table:
    """Each unit's breakdown value, read off the event of the chosen step of its best attempt."""
    times = [best[f"t{k}"] for k in range(1, size + 1)]
    if by_value == "first":
        step, at = ibis.literal(1, type="int32"), best.t1
    elif by_value == "last":
        step, at = best.level, ibis.coalesce(*reversed(times))
    else:
        n = _step_number(by_value, size)
        step, at = ibis.literal(n, type="int32"), times[n - 1]
    chosen = best.mutate(_step=step, _at=at)
    # several events of the step at the same time: the smallest event id decides
    values = rows.group_by(["unit", "step", "t"]).aggregate(v=rows._by.argmin(rows.event_id))
    joined = chosen.left_join(
        values,
        [chosen.unit == values.unit, chosen._step == values.step, chosen._at == values.t],
    )
    return joined.select(*[chosen[c] for c in best.columns], values.v.fill_null("(none)").name(by))


def _step_number(by_value: str, size: int) -> int:
    if by_value.startswith("step:") and by_value[5:].isdigit() and 1 <= int(by_value[5:]) <= size:
        return int(by_value[5:])
    raise ParameterError(
        "by_value", by_value, allowed=[*BY_VALUES[:2], *[f"step:{k}" for k in range(1, size + 1)]]
    )


def _without_excluded(
    ev: Events, best: ir.Table, exclude: Sequence[str], size: int, unit: str
) -> ir.Table:
    """Drop units with an excluded event strictly between the first and last step of their best attempt."""
    t = ev.table
    key = t.user_id if unit == "user" else t.session_id
    marks = t.filter(t.event_name.isin(list(exclude))).select(unit=key, x=t.event_time)
    last = ibis.coalesce(*[best[f"t{k}"] for k in range(size, 0, -1)])
    spans = best.select("unit", first=best.t1, last=last)
    hit = spans.join(
        marks, [spans.unit == marks.unit, marks.x > spans.first, marks.x < spans["last"]]
    )
    flagged = hit.select(spans.unit).distinct()
    return best.anti_join(flagged, "unit")


@dataclass(frozen=True)
class Windows:
    """The funnel's window (from the entry or each previous step) and optional per-step windows."""

    span: ir.IntervalScalar
    steps: list[ir.IntervalScalar] | None
    from_previous: bool

    def admits(
        self, t1: ir.Value, previous: ir.Value, k: int, candidate: ir.Value
    ) -> ir.BooleanValue:
        """Whether step k at ``candidate`` is inside every window, given t1 and step k-1's time."""
        inside = candidate <= (previous if self.from_previous else t1) + self.span
        if self.steps:
            inside = inside & (candidate <= previous + self.steps[k - 2])
        return inside

    def open_at(
        self, t1: ir.Value, last: ir.Value, level: ir.Value, end: ir.Value
    ) -> ir.BooleanValue:
        """Whether an attempt at ``level`` (its last step at ``last``) could still go on at ``end``."""
        still = (last if self.from_previous else t1) + self.span > end
        if self.steps:
            following = ibis.cases(
                *[(level == k - 1, last + w > end) for k, w in enumerate(self.steps, start=2)],
                else_=False,
            )
            still = still & following
        return still


def _ordered(
    rows: ir.Table, size: int, windows: Windows, *, increase: bool, adjacent: bool
) -> ir.Table:
    """Attempts: one row per (unit, entry) with t1..tK of the steps it reached.

    The earliest next event is best when the window runs from the entry alone;
    otherwise every admissible event is followed (windows from the previous
    step or per step), or, in strict mode, the unit's very next event.
    """
    times = [f"t{k}" for k in range(1, size + 1)]
    stamp = rows.t.type()
    carried = ["p"] if adjacent else []
    first = rows.filter(rows.step == 1)
    chain = first.select(
        "unit",
        t1=first.t,
        **{name: ibis.null().cast(stamp) for name in times[1:]},
        **({"p": first.pos} if adjacent else {}),
    )
    chain = chain.mutate(level=ibis.literal(1, type="int32"))
    done = [chain]
    greedy = not (adjacent or windows.from_previous or windows.steps)
    for k in range(2, size + 1):
        current = chain.mutate(tk=chain[times[k - 2]])
        nxt = rows.filter(rows.step == k)
        if greedy:
            chain = _next_step(current, nxt, times, k, increase)
            chain = chain.filter(chain[times[k - 1]] <= chain.t1 + windows.span)
        else:
            order = (nxt.t > current.tk) if increase else (nxt.t >= current.tk)
            joined = current.join(
                nxt,
                [
                    current.unit == nxt.unit,
                    (nxt.pos == current.p + 1) if adjacent else order,
                    windows.admits(current.t1, current.tk, k, nxt.t),
                ],
            )
            chain = joined.select(
                current.unit,
                *[current[n] for n in times[: k - 1]],
                nxt.t.name(times[k - 1]),
                *[current[n] for n in times[k:]],
                **({"p": nxt.pos} if adjacent else {}),
            ).distinct()
        chain = chain.mutate(level=ibis.literal(k, type="int32"))
        done.append(chain)
    return ibis.union(*[d.select("unit", "level", *times, *carried) for d in done], distinct=False)


def _next_step(
    current: ir.Table, candidates: ir.Table, times: list[str], k: int, increase: bool
) -> ir.Table:
    """For each attempt, the earliest step-k event at or after (strictly after) its last step."""
    nulls = {name: ibis.null().cast(candidates.t.type()) for name in times}
    mine = current.select(
        "unit",
        t=current.tk,
        kind=ibis.literal(1 if increase else 0, type="int8"),
        **{n: current[n] for n in times},
    )
    theirs = candidates.select(
        "unit", t=candidates.t, kind=ibis.literal(0 if increase else 1, type="int8"), **nulls
    )
    both = ibis.union(mine, theirs, distinct=False)
    following = ibis.window(group_by="unit", order_by=["t", "kind"], rows=(0, None))
    candidate_kind = 0 if increase else 1
    ahead = both.mutate(
        found=ibis.cases((both.kind == candidate_kind, both.t)).min().over(following)
    )
    attempts = ahead.filter([ahead.kind != candidate_kind, ahead.found.notnull()])
    return attempts.select(
        "unit",
        *[attempts[n] for n in times[: k - 1]],
        attempts.found.name(times[k - 1]),
        *[attempts[n] for n in times[k:]],
    )


def _unordered(rows: ir.Table, size: int, span: ir.IntervalScalar) -> ir.Table:
    """Attempts anchored at each step event: the first k steps all within [anchor, anchor + window]."""
    times = [f"t{k}" for k in range(1, size + 1)]
    following = ibis.window(group_by="unit", order_by="t", rows=(0, None))
    firsts = rows.mutate(
        **{
            times[j - 1]: ibis.cases((rows.step == j, rows.t)).min().over(following)
            for j in range(1, size + 1)
        }
    )
    within = {n: ibis.cases((firsts[n] <= firsts.t + span, firsts[n])) for n in times}
    anchored = firsts.mutate(**within)
    level: ir.IntegerValue = ibis.literal(0, type="int32")
    for k in range(size, 0, -1):  # the largest k whose first k steps are all inside
        inside = ibis.and_(*[anchored[n].notnull() for n in times[:k]])
        level = ibis.cases((inside & (level == 0), ibis.literal(k, type="int32")), else_=level)
    leveled = anchored.mutate(level=level).filter(lambda r: r.level > 0)
    # times beyond the level are not part of the attempt
    return leveled.select(
        "unit",
        "level",
        **{n: ibis.cases((leveled.level >= j, leveled[n])) for j, n in enumerate(times, start=1)},
    )


def _best(
    attempts: ir.Table, size: int, windows: Windows, data_end: ir.TimestampScalar
) -> ir.Table:
    """Per unit: the best attempt (highest level, then the earliest entry) and whether it may go on."""
    times = [f"t{k}" for k in range(1, size + 1)]
    carried = [c for c in attempts.columns if c == "p"]
    # deterministic among equal levels: the earliest entry, then the earliest later steps
    rank = ibis.row_number().over(group_by="unit", order_by=[ibis.desc("level"), *times, *carried])
    ranked = attempts.mutate(rank=rank)
    best = ranked.filter(ranked.rank == 0).drop("rank")
    # still inside its windows when the data ends
    last = ibis.coalesce(*[best[n] for n in reversed(times)])
    open_window = windows.open_at(best.t1, last, best.level, data_end) & (best.level < size)
    return best.mutate(in_progress=open_window)
