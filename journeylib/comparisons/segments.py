"""Segments compared: how two or more groups of people travel differently (issue #5).

:func:`compare_segments` sets two or more segments side by side across the
funnel, the most common paths and retention, and tests every difference
against the first segment (the reference). A segment is either a saved filter
(``{label: ev.where(...)}``; a person may then be in several, and each
segment's analyses read only its own events) or a column / ``properties``
key: each person then belongs to the segment of its value at their first
event (ties by event id, like retention's cohorts), the ``top`` values keep
their names and the rest are folded into ``other``, so the segments are
disjoint and each reads all the events of its people.

Tests: each item's rate is compared with the reference segment's by the pooled
two-proportion z-test (:func:`journeylib.model.statistics.two_proportion_p`); the
p-values of the whole table are adjusted together by Benjamini-Hochberg
(``q_value``) and ``significant`` is ``q_value < alpha``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from journeylib.analyses.funnels import funnel
from journeylib.core.durations import Duration
from journeylib.core.errors import ParameterError, whole_number
from journeylib.core.spec import check_value
from journeylib.core.sql import SQL
from journeylib.display.registry import analysis
from journeylib.display.result import Result
from journeylib.model.cohorts import Period, cohort_members, retention_grid
from journeylib.model.events import Events
from journeylib.model.labels import OTHER
from journeylib.model.levels import Mode, StepsSpec
from journeylib.model.sequences import clean_sequence, path_summary
from journeylib.model.stages import FIVE_STAGE, Stages, require_events
from journeylib.model.statistics import two_proportion_p

#: the long table's columns, in order
COLUMNS = [
    "analysis",
    "item",
    "segment",
    "users",
    "base",
    "rate",
    "difference",
    "p_value",
    "q_value",
    "significant",
]
ANALYSES = ("funnel", "paths", "retention")
#: ``path_summary`` folds nothing beyond this many paths
_ALL_PATHS = 2**62


@dataclass(frozen=True)
class CompareSegmentsSpec(StepsSpec):
    """The parameters of :func:`compare_segments`: the funnel's, the paths' and the retention's.

    ``segments`` is the column or key segmented by, else the labels given.
    """

    segments: str | tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    paths_from: str | None = None
    path_steps: int = 3
    top_paths: int = 10
    retention_period: Period = "week"
    retention_periods: int = 8
    top: int = 5
    alpha: float = 0.05


@analysis(
    columns=COLUMNS,
    counts=("users", "base", "segments.people"),
    views=ANALYSES,
)
def compare_segments(
    ev: Events,
    segments: Mapping[str, Events] | str,
    *,
    steps: Sequence[str] | Stages | None = None,
    within: Duration = "7d",
    mode: Mode = "ordered",
    paths_from: str | None = None,
    path_steps: int = 3,
    top_paths: int = 10,
    retention_period: Period = "week",
    retention_periods: int = 8,
    top: int = 5,
    alpha: float = 0.05,
) -> Result:
    """Funnel, paths and retention of two or more segments, each tested against the first.

    ``segments``: ``{label: events}`` (saved filters; a person may be in several)
    or the name of a column or ``properties`` key (``"channel"``,
    ``"properties.device.category"``): each person's value at their first event,
    the ``top`` values by people (largest first, so the largest is the
    reference) and ``other``.

    ``table`` (long, one row per analysis, item and segment): ``analysis``
    (``funnel``, ``paths``, ``retention``), ``item`` (the step; the path of the
    first ``path_steps`` events from each person's first ``paths_from`` event,
    or first event; the period, e.g. ``week 1``), ``segment``, ``users``,
    ``base`` and ``rate = users / base`` (people reaching the step of those who
    entered the funnel; people on the path of those with a path; people
    returning in the period of the cohorts complete by then), the
    ``difference`` from the first segment's rate, the two-sided ``p_value`` of
    a pooled two-proportion z-test against it, the Benjamini-Hochberg
    ``q_value`` over the whole table and ``significant`` (``q_value < alpha``).
    The first funnel step and the reference segment's rows carry no test.
    Paths are the ``top_paths`` with the most people over all segments.
    ``extras["segments"]``: people per segment. ``view("funnel")``,
    ``view("paths")``, ``view("retention")``: one analysis each.

    Examples
    --------
    >>> import journeylib as jl, pathlib, tempfile
    >>> rows = ["user_id,event_name,event_time,channel"]
    >>> for i in range(20):
    ...     rows.append(f"a{i},view,2024-01-01T10:00:00Z,Email")
    ...     rows += [f"a{i},buy,2024-01-01T11:00:00Z,Email"] if i < 15 else []
    ...     rows.append(f"b{i},view,2024-01-01T10:00:00Z,Direct")
    ...     rows += [f"b{i},buy,2024-01-01T11:00:00Z,Direct"] if i < 5 else []
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "e.csv"
    >>> _ = path.write_text("\\n".join(rows) + "\\n")
    >>> ws = jl.open(); _ = ws.load_events(path)
    >>> c = compare_segments(ws.events(), "channel", steps=["view", "buy"], within="1d")
    >>> f = c.view("funnel").table
    >>> f.query("item == 'buy'")[["segment", "users", "base", "rate"]].values.tolist()
    [['Direct', 5, 20, 0.25], ['Email', 15, 20, 0.75]]
    >>> round(float(f.p_value.iloc[-1]), 4), bool(f.significant.iloc[-1])
    (0.0016, True)
    """
    whole_number("path_steps", path_steps)
    whole_number("top_paths", top_paths)
    whole_number("top", top)
    whole_number("retention_periods", retention_periods, 1, 400)
    check_value("retention_period", retention_period, Period)
    if not isinstance(alpha, float | int) or not 0 < alpha < 1:
        raise ParameterError("alpha", alpha, reason="Give a level between 0 and 1, e.g. 0.05.")
    groups, by = segment_events(ev, segments, top=top)
    if paths_from is not None:
        require_events(
            [(paths_from, (paths_from,))], ev.event_names(), param="paths_from", typos_only=True
        )
    chosen = FIVE_STAGE if steps is None else steps
    funnels = {label: funnel(events, chosen, within, mode) for label, events in groups.items()}
    path_query = _paths_query(groups, paths_from, path_steps, top_paths)
    retention_query = _retention_query(groups, retention_period, retention_periods)
    path_frame = ev.engine.run(path_query, what="the paths by segment")
    cells = ev.engine.run(retention_query, what="the retention by segment")
    labels = list(groups)
    parts = [
        _funnel_rows(funnels),
        _path_rows(path_frame, labels),
        _retention_rows(cells, labels, retention_period, retention_periods),
    ]
    table = pd.concat([part for part in parts if len(part)], ignore_index=True)
    table = adjust(table, alpha)
    sizes = cells[cells.period == 0].groupby("segment", sort=False).cohort_size.sum()
    people = pd.DataFrame(
        {"segment": labels, "people": [int(sizes.get(label, 0)) for label in labels]}
    )
    sql = SQL.combine(
        [*[run.sql for run in funnels.values()], SQL.of(path_query), SQL.of(retention_query)],
        [
            *[f"funnel of segment {label}" for label in labels],
            "paths by segment",
            "retention by segment",
        ],
    )
    spec = CompareSegmentsSpec(
        tuple(funnels[labels[0]].params["steps"]),
        within,
        mode,
        segments=by if by is not None else tuple(labels),
        labels=tuple(labels),
        paths_from=paths_from,
        path_steps=path_steps,
        top_paths=top_paths,
        retention_period=retention_period,
        retention_periods=retention_periods,
        top=top,
        alpha=alpha,
    )
    from journeylib.display.charts.segments import comparison_chart, comparison_view

    extras = {name: table[table.analysis == name].reset_index(drop=True) for name in ANALYSES}
    return Result(
        f"Segments compared{f' by {by}' if by else ''}",
        table,
        sql,
        spec.params(),
        draw=comparison_chart,
        extras={**extras, "segments": people},
        views={name: comparison_view(name) for name in ANALYSES},
    )


def segment_events(
    ev: Events, segments: Mapping[str, Events] | str, *, top: int = 5
) -> tuple[dict[str, Events], str | None]:
    """The segments as ``{label: events}`` and the column or key they come from (None for a mapping).

    A column or ``properties`` key (``properties.`` prefix optional) puts each
    person in the segment of its value at their first event (``(none)`` when
    missing); the ``top`` values with the most people come first, largest
    first (ties by value), the rest are ``other``. Each segment holds every
    event of its people.

    Examples
    --------
    >>> import journeylib as jl, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "e.csv"
    >>> _ = path.write_text("user_id,event_name,event_time,channel\\n"
    ...     "a,view,2024-01-01T10:00:00Z,Email\\na,buy,2024-01-01T11:00:00Z,Direct\\n"
    ...     "b,view,2024-01-01T10:00:00Z,Email\\nc,view,2024-01-01T10:00:00Z,Direct\\n")
    >>> ws = jl.open(); _ = ws.load_events(path)
    >>> groups, by = segment_events(ws.events(), "channel")
    >>> by, {label: events.count() for label, events in groups.items()}
    ('channel', {'Email': 3, 'Direct': 1})
    """
    if isinstance(segments, str):
        return _by_column(ev, segments, top), segments
    if not isinstance(segments, Mapping) or len(segments) < 2:
        raise ParameterError(
            "segments",
            segments,
            reason="Give two or more {label: events} segments, or a column or properties key.",
        )
    groups: dict[str, Events] = {}
    for label, events in segments.items():
        if not isinstance(events, Events) or events.engine is not ev.engine:
            raise ParameterError(
                "segments",
                label,
                reason="Each segment must be events of the same workspace, e.g. ev.where(...).",
            )
        groups[str(label)] = events
    return groups, None


def _by_column(ev: Events, name: str, top: int) -> dict[str, Events]:
    """Each person's segment: the column's (or key's) value at their first event."""
    t = ev.table
    value = ev.value(
        name if name in t.columns else name.removeprefix("properties."), param="segments"
    )
    members = cohort_members(ev, None, by_value=value)
    sizes = members.group_by("cohort").aggregate(people=members.count())
    largest = sizes.order_by([ibis.desc("people"), "cohort"]).limit(top + 1)
    values = [str(v) for v in ev.engine.run(largest, what="the largest segments").cohort]
    kept = values[:top]
    labels = kept + ([OTHER] if len(values) > top else [])
    if len(labels) < 2:
        raise ParameterError(
            "segments",
            name,
            reason=f"Every person has the same value ({labels[0] if labels else 'none'}); "
            "two or more segments are needed.",
        )
    segment = ibis.ifelse(members.cohort.isin(kept), members.cohort, ibis.literal(OTHER))
    people = members.select("user", segment=segment)
    groups = {}
    for label in labels:
        chosen = people.filter(people.segment == label)
        groups[label] = replace(ev, table=t.semi_join(chosen, t.user_id == chosen.user))
    return groups


def _paths_query(groups: Mapping[str, Events], start: str | None, steps: int, top: int) -> ir.Table:
    """``segment``, ``path``, ``users``, ``rank``: the ``top`` paths over all segments.

    Rank 0 comes first; a row with a null path counts the people with a path in
    each segment.
    """
    parts = []
    for label, events in groups.items():
        summary = path_summary(clean_sequence(events), start, None, steps, _ALL_PATHS, None)
        parts.append(summary.select(segment=ibis.literal(label), path="path", users="users"))
    every = ibis.union(*parts, distinct=False)
    totals = every.group_by("path").aggregate(n=every.users.sum())
    order = ibis.row_number().over(order_by=[ibis.desc("n"), "path"])
    ranked = totals.mutate(rank=order.cast("int64"))
    chosen = ranked.filter(ranked.rank < top)
    shown = every.join(chosen, "path").select(every.segment, every.path, every.users, chosen.rank)
    bases = every.group_by("segment").aggregate(users=every.users.sum())
    bases = bases.select(
        "segment", path=ibis.null("string"), users="users", rank=ibis.null("int64")
    )
    return ibis.union(shown, bases, distinct=False)


def _retention_query(groups: Mapping[str, Events], period: str, periods: int) -> ir.Table:
    """Every segment's cohort x period grid (first-time cohorts, any event), with ``segment``."""
    parts = [
        retention_grid(events, period=period, periods=periods)[1].mutate(
            segment=ibis.literal(label)
        )
        for label, events in groups.items()
    ]
    return ibis.union(*parts, distinct=False)


def _tested(
    frame: pd.DataFrame, labels: list[str], analysis: str, items: list[str]
) -> pd.DataFrame:
    """Long rows from ``item, segment, users, base``, each tested against the first segment.

    A cell not given counts 0 of 0; each row has the rate, its difference from
    the first segment's and the test against it.
    """
    cells = {
        (str(i), str(s)): (int(u), int(b))
        for i, s, u, b in zip(frame.item, frame.segment, frame.users, frame.base, strict=True)
    }
    rows = []
    for item in items:
        ref_users, ref_base = cells.get((item, labels[0]), (0, 0))
        ref_rate = ref_users / ref_base if ref_base else math.nan
        for label in labels:
            users, base = cells.get((item, label), (0, 0))
            rate = users / base if base else math.nan
            tested = label != labels[0]
            rows.append(
                {
                    "analysis": analysis,
                    "item": item,
                    "segment": label,
                    "users": users,
                    "base": base,
                    "rate": rate,
                    "difference": rate - ref_rate,
                    "p_value": two_proportion_p(users, base, ref_users, ref_base)
                    if tested
                    else math.nan,
                }
            )
    return pd.DataFrame(rows, columns=COLUMNS[:8])


def _funnel_rows(runs: Mapping[str, Result]) -> pd.DataFrame:
    """The segments' funnels as long rows: people reaching each step of those who entered."""
    labels = list(runs)
    frame = pd.concat(
        [run.table.assign(segment=label) for label, run in runs.items()], ignore_index=True
    )
    entered = frame[frame.step_index == 1].set_index("segment").users
    frame = frame.assign(item=frame.step, base=frame.segment.map(entered))
    if runs[labels[0]].table.step.duplicated().any():  # the same event twice: keep them apart
        frame["item"] = [f"{i}. {s}" for i, s in zip(frame.step_index, frame.step, strict=True)]
    rows = _tested(frame, labels, "funnel", list(dict.fromkeys(frame.item)))
    first = rows.item == frame.item.iloc[0]
    rows.loc[first, "p_value"] = math.nan  # everyone who entered reached step 1
    return rows


def _path_rows(frame: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    """Share of each segment's people with a path on each top path."""
    bases = frame[frame.path.isna()].set_index("segment").users
    shown = frame[frame.path.notna()].sort_values(["rank", "segment"])
    cells = shown.assign(
        item=shown.path.astype(str), base=shown.segment.map(bases).fillna(0).astype("int64")
    )
    items = list(dict.fromkeys(cells.item))
    if not items:
        return pd.DataFrame(columns=COLUMNS[:8])
    full = pd.DataFrame(
        [
            {"item": item, "segment": label, "users": 0, "base": int(bases.get(label, 0))}
            for item in items
            for label in labels
        ]
    )
    known = cells.set_index(["item", "segment"]).users
    full["users"] = [
        int(known.get((i, s), 0)) for i, s in zip(full.item, full.segment, strict=True)
    ]
    return _tested(full, labels, "paths", items)


def _retention_rows(
    cells: pd.DataFrame, labels: list[str], period: str, periods: int
) -> pd.DataFrame:
    """Per segment and period 1..periods: returning people of the cohorts complete by then."""
    done = cells[cells.complete.fillna(False).astype(bool) & (cells.period >= 1)]
    sums = done.groupby(["segment", "period"]).agg(
        users=("users", "sum"), base=("cohort_size", "sum")
    )
    items = [f"{period} {k}" for k in range(1, periods + 1)]
    full = pd.DataFrame(
        [
            {
                "item": f"{period} {k}",
                "segment": label,
                "users": int(sums.users.get((label, k), 0)),
                "base": int(sums.base.get((label, k), 0)),
            }
            for k in range(1, periods + 1)
            for label in labels
        ]
    )
    return _tested(full, labels, "retention", items)


def adjust(table: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Add the Benjamini-Hochberg ``q_value`` over the table's p-values and ``significant``.

    Rows without a p-value get none and are not significant.

    Examples
    --------
    >>> t = adjust(pd.DataFrame({"p_value": [0.01, 0.04, float("nan"), 0.03, 0.5]}))
    >>> [round(q, 4) for q in t.q_value.fillna(-1)], t.significant.tolist()
    ([0.04, 0.0533, -1.0, 0.0533, 0.5], [True, False, False, False, False])
    """
    from scipy.stats import false_discovery_control

    table = table.copy()
    tested = table.p_value.notna().to_numpy()
    q = np.full(len(table), np.nan)
    if tested.any():
        q[tested] = false_discovery_control(table.p_value.to_numpy()[tested], method="bh")
    table["q_value"] = q
    table["significant"] = np.where(tested, q < alpha, False).astype(bool)
    return table


# ---------------------------------------------------------------- personas


__all__ = ["ANALYSES", "COLUMNS", "adjust", "compare_segments", "segment_events"]
