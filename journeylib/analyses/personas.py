"""Personas: groups of people found in their journeys (issue #5).

:func:`personas` clusters people by their journey: the furthest stage
reached, hours spent in each stage, number of sessions, the share of their
sessions by channel group and whether they converted. The per-person features
come from one engine query; Python only standardises the small matrix and runs
a seeded k-means (k-means++ starts, several restarts, the lowest within-cluster
sum of squares kept), so the same seed gives the same personas. Segments set
side by side are in :mod:`journeylib.comparisons.segments`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from journeylib.core.durations import elapsed_seconds
from journeylib.core.errors import ParameterError, whole_number
from journeylib.core.spec import Spec, check_value
from journeylib.core.sql import SQL
from journeylib.display.registry import analysis
from journeylib.display.result import Result, lazy_chart
from journeylib.model.events import Events
from journeylib.model.labels import NONE, OTHER
from journeylib.model.stage_reach import checked_stages, stage_reach
from journeylib.model.stages import FIVE_STAGE, Stages
from journeylib.model.touchpoints import touchpoints

#: persona features, in the order of the profile chart (``hours in STAGE`` and channels follow)
PROFILE = ["converted", "furthest_stage", "sessions"]


@dataclass(frozen=True)
class PersonasSpec(Spec):
    """The parameters of :func:`personas`, with the conversion stage and the channels shown resolved."""

    stages: dict[str, Any]
    k: int = 4
    seed: int = 0
    conversion_stage: str | None = None
    channels: tuple[str, ...] = ()
    restarts: int = 10


@analysis(counts=("people",))
def personas(
    ev: Events,
    stages: Stages = FIVE_STAGE,
    k: int = 4,
    seed: int = 0,
    *,
    conversion_stage: str | None = None,
    channels: int = 6,
    restarts: int = 10,
    members: bool = True,
) -> Result:
    """Cluster people by their journey into ``k`` personas, each described in words.

    Features per person (people with a first-stage event): the furthest stage
    reached, hours in each stage reached (until the next stage, or the last
    event for the furthest), number of sessions, the share of their sessions
    by channel (a session's channel as in attribution: its first event with
    one; the ``channels`` most common, the rest ``other``, no channel at all
    ``(none)``) and whether they reached ``conversion_stage`` (``purchase``
    when the map has it, else the last stage). Hours and sessions are
    log-scaled, every feature standardised, and a seeded k-means with
    k-means++ starts (``restarts`` runs, the tightest kept) groups people.

    ``table``: one row per persona, largest first: ``persona`` (1..k),
    ``people``, ``share``, ``conversion_rate``, ``mean_furthest_stage``
    (1-based), ``median_hours_to_convert`` (from the first stage to the
    conversion stage, converters only), ``mean_sessions``, ``top_channel`` and
    ``top_channel_share``, and a ``description`` of what sets it apart from
    everyone. ``extras["profiles"]``: each persona's mean of each feature
    beside everyone's, and its standardised gap (``z``); with ``members``,
    ``extras["members"]``: each person's persona and features.

    Examples
    --------
    >>> import journeylib as jl, pathlib, tempfile
    >>> rows = ["user_id,event_name,event_time,channel,session_id"]
    >>> for i in range(6):
    ...     rows += [f"e{i},view,2024-01-01T10:00:00Z,Email,e{i}", f"e{i},buy,2024-01-01T10:30:00Z,,e{i}"]
    ...     rows += [f"s{i},view,2024-01-01T10:00:00Z,Paid Social,s{i}"]
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "e.csv"
    >>> _ = path.write_text("\\n".join(rows) + "\\n")
    >>> ws = jl.open(); _ = ws.load_events(path)
    >>> p = personas(ws.events(), jl.Stages({"aware": ["view"], "purchase": ["buy"]}), k=2)
    >>> p.table[["persona", "people", "conversion_rate", "top_channel"]].values.tolist()
    [[1, 6, 1.0, 'Email'], [2, 6, 0.0, 'Paid Social']]
    >>> p.table.description.iloc[0]
    'reach purchase 2.0x as often; mostly Email (100%); most get as far as purchase'
    """
    check_value("members", members, bool)
    k = whole_number("k", k, 2, 12)
    whole_number("channels", channels)
    restarts = whole_number("restarts", restarts)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ParameterError("seed", seed, reason="Give a whole number.")
    checked_stages(ev, stages, several=True)
    goal = _conversion_stage(stages, conversion_stage)
    top = _top_channels(ev, channels)
    query = person_features(ev, stages, top, goal)
    frame = ev.engine.run(query, what="each person's journey features")
    if len(frame) < k:
        raise ParameterError(
            "k",
            k,
            reason=f"Only {len(frame)} people reached the first stage; "
            f"k personas need at least {k}.",
        )
    groups = _channel_groups(top)
    frame = frame.sort_values("user_id", kind="stable").reset_index(drop=True)
    matrix, names = _matrix(frame, stages.names, groups)
    if len(np.unique(matrix, axis=0)) < k:
        raise ParameterError(
            "k",
            k,
            reason=f"People follow only {len(np.unique(matrix, axis=0))} distinct journeys; "
            "ask for fewer personas.",
        )
    scaled = standardise(matrix)
    labels = kmeans(scaled, k, seed, restarts=restarts)
    frame.insert(1, "persona", labels + 1)
    table, profiles = _describe(frame, scaled, names, stages.names, groups, goal)
    spec = PersonasSpec(stages.spec(), k, seed, stages.names[goal - 1], tuple(top), restarts)
    extras = {"profiles": profiles}
    if members:
        readable = {f"hours_{s}": f"hours_{name}" for s, name in enumerate(stages.names, start=1)}
        readable |= {f"channel_{j}": f"share_{name}" for j, name in enumerate(groups, start=1)}
        extras["members"] = frame.rename(columns=readable)
    return Result(
        f"{k} personas",
        table,
        SQL.of(query),
        spec.params(),
        draw=lazy_chart("personas", "personas_chart"),
        extras=extras,
    )


def _conversion_stage(stages: Stages, name: str | None) -> int:
    """The 1-based index of the conversion stage."""
    if name is None:
        return stages.names.index("purchase") + 1 if "purchase" in stages.names else len(stages)
    if name not in stages.names:
        raise ParameterError("conversion_stage", name, allowed=stages.names)
    return stages.names.index(name) + 1


def _top_channels(ev: Events, top: int) -> list[str]:
    """The ``top`` channels by sessions (ties by name)."""
    touches = touchpoints(ev)
    counts = touches.group_by("channel").aggregate(n=touches.count())
    largest = counts.order_by([ibis.desc("n"), "channel"]).limit(top)
    return [str(c) for c in ev.engine.run(largest, what="the largest channels").channel]


def _channel_groups(top: Sequence[str]) -> list[str]:
    return [*top, OTHER, NONE]


def person_features(ev: Events, stages: Stages, channels: Sequence[str], goal: int) -> ir.Table:
    """One row per person who reached the first stage, as one expression.

    Columns: ``user_id``, ``furthest_stage`` (1-based), ``converted`` (reached
    stage ``goal``), ``hours_to_convert``, ``hours_1``..``hours_K`` (in each
    stage reached, 0 otherwise), ``sessions`` and ``channel_1``..``channel_N``:
    the share of the person's sessions from each of ``channels``, then
    ``other`` and ``(none)`` (1 when no session has a channel).

    Examples
    --------
    >>> import journeylib as jl
    >>> person_features(jl.open().events(), FIVE_STAGE, ["Email"], 4).columns[-3:]
    ('channel_1', 'channel_2', 'channel_3')
    """
    reached = stage_reach(ev, stages)
    t = ev.table.filter(ev.table.user_id.notnull())
    activity = t.group_by("user_id").aggregate(
        last_event=t.event_time.max(), sessions=t.session_id.nunique().cast("int64")
    )
    joined = reached.join(activity, "user_id")
    end = ibis.coalesce(joined.t_next, joined.last_event)
    hours = elapsed_seconds(joined.t, end) / 3600.0
    size = len(stages)
    per = joined.group_by("user_id").aggregate(
        furthest_stage=joined.stage_index.max(),
        sessions=joined.sessions.max(),
        first_t=ibis.cases((joined.stage_index == 1, joined.t)).min(),
        goal_t=ibis.cases((joined.stage_index == goal, joined.t)).min(),
        **{
            f"hours_{s}": ibis.cases((joined.stage_index == s, hours)).max()
            for s in range(1, size + 1)
        },
    )
    touches = touchpoints(ev)
    counted = touches.group_by("user_id").aggregate(
        touches=touches.count(),
        **{
            f"n_{j}": (touches.channel == name).cast("int64").sum()
            for j, name in enumerate(channels, start=1)
        },
        n_other=(~touches.channel.isin(list(channels))).cast("int64").sum()
        if channels
        else touches.count(),
    )
    both = per.left_join(counted, per.user_id == counted.user_id)
    total = both.touches.cast("float64")
    has = both.touches.notnull()

    def share(column: ir.IntegerValue) -> ir.FloatingValue:
        value: ir.FloatingValue = ibis.ifelse(has, column.cast("float64") / total, 0.0)
        return value

    names = [*[f"n_{j}" for j in range(1, len(channels) + 1)], "n_other"]
    return both.select(
        per.user_id,
        furthest_stage=per.furthest_stage.cast("int64"),
        converted=(per.furthest_stage >= goal).cast("int64"),
        hours_to_convert=elapsed_seconds(per.first_t, per.goal_t) / 3600.0,
        **{f"hours_{s}": per[f"hours_{s}"].fill_null(0.0) for s in range(1, size + 1)},
        sessions=per.sessions.fill_null(0),
        **{f"channel_{j}": share(both[n]) for j, n in enumerate(names, start=1)},
        **{f"channel_{len(names) + 1}": ibis.ifelse(has, 0.0, 1.0)},
    )


def _matrix(
    frame: pd.DataFrame, stage_names: list[str], groups: list[str]
) -> tuple[np.ndarray, list[str]]:
    """The clustering features (hours and sessions log-scaled) and their readable names."""
    columns = {
        "converted": frame.converted.to_numpy(dtype=float),
        "furthest_stage": frame.furthest_stage.to_numpy(dtype=float),
        "sessions": np.log1p(frame.sessions.to_numpy(dtype=float)),
    }
    for s, name in enumerate(stage_names, start=1):
        columns[f"hours in {name}"] = np.log1p(frame[f"hours_{s}"].to_numpy(dtype=float))
    for j, name in enumerate(groups, start=1):
        columns[f"channel {name}"] = frame[f"channel_{j}"].to_numpy(dtype=float)
    return np.column_stack(list(columns.values())), list(columns)


def standardise(matrix: np.ndarray) -> np.ndarray:
    """Each column to mean 0 and standard deviation 1 (a constant column to 0).

    Examples
    --------
    >>> standardise(np.array([[1.0, 5.0], [3.0, 5.0]])).tolist()
    [[-1.0, 0.0], [1.0, 0.0]]
    """
    centred = matrix - matrix.mean(axis=0)
    spread = matrix.std(axis=0)
    scaled: np.ndarray = np.divide(
        centred, spread, out=np.zeros_like(centred), where=spread > 1e-12
    )
    return scaled


def kmeans(data: np.ndarray, k: int, seed: int = 0, *, restarts: int = 10) -> np.ndarray:
    """Cluster labels 0..k-1 by Lloyd's k-means with k-means++ starts, deterministic per seed.

    The run with the smallest within-cluster sum of squares is kept; labels are
    numbered by cluster size, largest first (ties by the first member's row).

    Examples
    --------
    >>> points = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0], [5.0, 5.1]])
    >>> kmeans(points, 2).tolist()
    [1, 1, 0, 0, 0]
    """
    rng = np.random.default_rng(seed)
    best: tuple[float, np.ndarray] | None = None
    for _ in range(restarts):
        labels, inertia = _lloyd(data, _plus_plus(data, k, rng))
        if best is None or inertia < best[0] - 1e-9:
            best = (inertia, labels)
    assert best is not None
    labels = best[1]
    sizes = np.bincount(labels, minlength=k)
    firsts = [int(np.flatnonzero(labels == j)[0]) if sizes[j] else len(labels) for j in range(k)]
    order = sorted(range(k), key=lambda j: (-sizes[j], firsts[j]))
    renumber = np.empty(k, dtype=int)
    renumber[order] = np.arange(k)
    numbered: np.ndarray = renumber[labels]
    return numbered


def _plus_plus(data: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++: each next centre drawn with probability proportional to its squared distance."""
    centres = [data[rng.integers(len(data))]]
    for _ in range(1, k):
        gaps = _distances(data, np.array(centres)).min(axis=1)
        total = gaps.sum()
        pick = rng.choice(len(data), p=gaps / total) if total > 0 else rng.integers(len(data))
        centres.append(data[pick])
    return np.array(centres)


def _distances(data: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Squared distances, people x centres."""
    squared = (data**2).sum(axis=1)[:, None] - 2 * data @ centres.T + (centres**2).sum(axis=1)
    clipped: np.ndarray = np.maximum(squared, 0.0)
    return clipped


def _lloyd(
    data: np.ndarray, centres: np.ndarray, iterations: int = 300
) -> tuple[np.ndarray, float]:
    """Lloyd's iterations from ``centres``; an emptied cluster restarts at the farthest person."""
    labels = np.zeros(len(data), dtype=int)
    for _ in range(iterations):
        gaps = _distances(data, centres)
        labels = gaps.argmin(axis=1)
        moved = centres.copy()
        for j in range(len(centres)):
            mine = labels == j
            if mine.any():
                moved[j] = data[mine].mean(axis=0)
            else:
                far = int(gaps[np.arange(len(data)), labels].argmax())
                moved[j] = data[far]
                labels[far] = j
        if np.allclose(moved, centres, rtol=0.0, atol=1e-10):
            break
        centres = moved
    gaps = _distances(data, centres)
    labels = gaps.argmin(axis=1)
    return labels, float(gaps[np.arange(len(data)), labels].sum())


def _describe(
    frame: pd.DataFrame,
    scaled: np.ndarray,
    names: list[str],
    stage_names: list[str],
    groups: list[str],
    goal: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The persona table and the long profiles (feature means beside everyone's, and z gaps)."""
    channel_columns = [f"channel_{j}" for j in range(1, len(groups) + 1)]
    everyone = _means(frame, stage_names, groups)
    rows, profiles = [], []
    for persona in sorted(frame.persona.unique()):
        mine = (frame.persona == persona).to_numpy()
        part = frame[mine]
        shares = part[channel_columns].mean().to_numpy()
        top = int(shares.argmax())
        z = dict(zip(names, scaled[mine].mean(axis=0), strict=True))
        means = _means(part, stage_names, groups)
        for feature, value in means.items():
            profiles.append(
                {
                    "persona": int(persona),
                    "feature": feature,
                    "value": value,
                    "everyone": everyone[feature],
                    "z": float(z.get(feature, 0.0)),
                }
            )
        converters = part.hours_to_convert.dropna()
        rows.append(
            {
                "persona": int(persona),
                "people": len(part),
                "share": len(part) / len(frame),
                "conversion_rate": float(part.converted.mean()),
                "mean_furthest_stage": float(part.furthest_stage.mean()),
                "median_hours_to_convert": float(converters.median())
                if len(converters)
                else math.nan,
                "mean_sessions": float(part.sessions.mean()),
                "top_channel": groups[top],
                "top_channel_share": float(shares[top]),
                "description": describe(part, frame, stage_names, groups, goal),
            }
        )
    return pd.DataFrame(rows), pd.DataFrame(profiles)


def _means(frame: pd.DataFrame, stage_names: list[str], groups: list[str]) -> dict[str, float]:
    """Readable feature means: conversion, stage, sessions, median hours per stage, channel shares."""
    means = {
        "converted": float(frame.converted.mean()),
        "furthest_stage": float(frame.furthest_stage.mean()),
        "sessions": float(frame.sessions.mean()),
    }
    for s, name in enumerate(stage_names, start=1):
        inside = frame[frame.furthest_stage >= s][f"hours_{s}"]
        means[f"hours in {name}"] = float(inside.median()) if len(inside) else math.nan
    for j, name in enumerate(groups, start=1):
        means[f"channel {name}"] = float(frame[f"channel_{j}"].mean())
    return means


def describe(
    part: pd.DataFrame,
    everyone: pd.DataFrame,
    stage_names: list[str],
    groups: list[str],
    goal: int,
) -> str:
    """Words for what sets a persona (``part``) apart from ``everyone``.

    Conversion as a multiple of everyone's; the channel that carries most of its
    sessions ("mostly", from half), else the one most over-represented against
    everyone; then the other feature furthest from everyone in standard
    deviations: the furthest stage, sessions, or (log) hours in a stage among
    those who reached it (a stage at least half the persona reached). Rows are
    :func:`person_features` rows.

    Examples
    --------
    >>> everyone = pd.DataFrame({"converted": [1, 1, 0, 0], "furthest_stage": [2, 2, 1, 1],
    ...     "sessions": [2, 2, 1, 1], "hours_1": [0.5, 0.5, 0.0, 0.0], "hours_2": [0.0] * 4,
    ...     "channel_1": [1.0, 0.5, 0.0, 0.0], "channel_2": [0.0, 0.5, 1.0, 1.0],
    ...     "channel_3": [0.0] * 4})
    >>> describe(everyone.iloc[:2], everyone, ["aware", "buy"], ["Email", "other", "(none)"], 2)
    'reach buy 2.0x as often; mostly Email (75%); most get as far as buy'
    >>> describe(everyone.iloc[2:], everyone, ["aware", "buy"], ["Email", "other", "(none)"], 2)
    'never reach buy; mostly other channels (100%); most get as far as aware'
    """
    goal_name = stage_names[goal - 1]
    phrases = []
    overall = float(everyone.converted.mean())
    rate = float(part.converted.mean())
    if overall > 0:
        phrases.append(
            f"never reach {goal_name}"
            if rate == 0
            else f"reach {goal_name} {rate / overall:.1f}x as often"
        )
    columns = [f"channel_{j}" for j in range(1, len(groups) + 1)]
    shares = part[columns].mean().to_numpy()
    top = int(np.argmax(shares))
    if shares[top] >= 0.5:
        phrases.append(f"mostly {_channel_words(groups[top])} ({shares[top]:.0%})")
    else:
        gaps = _gap(part[columns].to_numpy(), everyone[columns].to_numpy())
        more = int(np.argmax(gaps))
        share, usual = shares[more], float(everyone[columns[more]].mean())
        phrases.append(f"more {_channel_words(groups[more])} ({share:.0%} vs {usual:.0%})")
    # the most distinctive of the rest, by the size of its standardised gap
    stage = int(part.furthest_stage.mode().min())
    others: list[tuple[float, str]] = [
        (
            abs(_gap(part.furthest_stage.to_numpy(), everyone.furthest_stage.to_numpy())[0]),
            f"most get as far as {stage_names[stage - 1]}",
        ),
        (
            abs(
                _gap(np.log1p(part.sessions.to_numpy()), np.log1p(everyone.sessions.to_numpy()))[0]
            ),
            f"{part.sessions.mean():.1f} sessions (everyone {everyone.sessions.mean():.1f})",
        ),
    ]
    for s, name in enumerate(stage_names, start=1):
        mine = part[part.furthest_stage >= s][f"hours_{s}"].to_numpy(dtype=float)
        all_ = everyone[everyone.furthest_stage >= s][f"hours_{s}"].to_numpy(dtype=float)
        if len(mine) * 2 >= len(part):  # a stage most of the persona reached
            gap = abs(_gap(np.log1p(mine), np.log1p(all_))[0])
            median, usual = float(np.median(mine)), float(np.median(all_))
            others.append((gap, f"{median:.1f} h in {name} (everyone {usual:.1f} h)"))
    others.sort(key=lambda pair: -round(pair[0], 9))  # near ties: the order above
    phrases.append(others[0][1])
    return "; ".join(phrases)


def _gap(part: np.ndarray, everyone: np.ndarray) -> np.ndarray:
    """Per column, how many of everyone's standard deviations the part's mean lies from theirs."""
    part, everyone = part.reshape(len(part), -1), everyone.reshape(len(everyone), -1)
    spread = everyone.std(axis=0)
    diff = part.mean(axis=0) - everyone.mean(axis=0)
    gaps: np.ndarray = np.divide(diff, spread, out=np.zeros_like(diff), where=spread > 1e-12)
    return gaps


def _channel_words(group: str) -> str:
    return {OTHER: "other channels", NONE: "no channel"}.get(group, group)


__all__ = ["PROFILE", "describe", "kmeans", "person_features", "personas", "standardise"]
