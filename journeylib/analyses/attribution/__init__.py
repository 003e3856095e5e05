"""Multi-touch attribution: which channels deserve credit for the conversions (ADR 0008).

``attribution(ev, conversion="purchase", lookback="30d", models=[...])`` builds
each conversion's path of touches in the engine
(:mod:`journeylib.analyses.attribution.touchpoints`); ``attribution(paths_df, ...)``
reads a path summary (``path`` as ``"a > b > c"``, ``conversions``, ``nulls``,
optional ``value``). The models then run on that small summary:

- heuristics (:mod:`~journeylib.analyses.attribution.heuristics`): ``first_touch``,
  ``last_touch``, ``last_non_direct``, ``linear``, ``position_based``
  (40/20/40), ``j_shaped`` (20/20/60), ``inverse_j`` (60/20/20);
- ``time_decay`` (events only: it needs each touch's age), half-life 7 days;
- ``w_shaped`` (events only): 30% each to the first touch and the touches
  before CRM lead and opportunity creation, 10% over the rest;
- ``markov`` (:mod:`~journeylib.analyses.attribution.markov`): exact removal effects on
  the absorbing chain of order 1 to 4;
- ``shapley`` (:mod:`~journeylib.analyses.attribution.shapley`): exact Shapley values
  over channel sets.

Every model hands out each conversion exactly once: the credits of a model
sum to the total conversions and the total value, and none is negative. Both
are checked on every call and reported in ``extras["checks"]``.
"""

from __future__ import annotations

import inspect
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pandas as pd
from ibis.common.exceptions import TableNotFound

from journeylib.analyses.attribution import heuristics
from journeylib.analyses.attribution.heuristics import DIRECT_CHANNELS, SHAPES, Credit
from journeylib.analyses.attribution.journeys import DIRECT, Journeys
from journeylib.analyses.attribution.markov import MAX_ORDER, check_order, markov_credit
from journeylib.analyses.attribution.shapley import dividends
from journeylib.analyses.attribution.touchpoints import (
    Count,
    PathOptions,
    Touchpoint,
    Transform,
    journey_touches,
    path_summary,
    time_decay,
    w_shaped,
    weighted_credit,
)
from journeylib.core.durations import Duration, parse_duration
from journeylib.core.errors import DataError, ParameterError, whole_number
from journeylib.core.spec import Spec
from journeylib.core.sql import SQL
from journeylib.display.registry import analysis
from journeylib.display.result import Result
from journeylib.model.events import Events
from journeylib.model.stages import require_events
from journeylib.model.touchpoints import MAP_TRAFFIC

MODELS = (
    "first_touch",
    "last_touch",
    "last_non_direct",
    "linear",
    "position_based",
    "j_shaped",
    "inverse_j",
    "time_decay",
    "w_shaped",
    "markov",
    "shapley",
)
#: models weighing each touch in the engine: they need events, not a path summary
TOUCH_MODELS = ("time_decay", "w_shaped")
#: CRM milestone events of the W-shaped model (lead, then opportunity creation)
MILESTONES = ("crm_lead_created", "crm_opportunity_created")
#: models run when none are named (time_decay only when there are touch times)
DEFAULT_MODELS = (
    "first_touch",
    "last_touch",
    "last_non_direct",
    "linear",
    "position_based",
    "time_decay",
    "markov",
    "shapley",
)
#: the stable columns the CLI's CSV and JSON carry, first
COLUMNS = ["channel", "model", "conversions", "revenue"]
#: tolerance of the invariant checks, relative to the totals
TOLERANCE = 1e-9


@analysis(
    columns=COLUMNS,
    counts=("paths.conversions", "paths.nulls"),
    views=("removal_effects", "transition_matrix", "roas"),
)
def attribution(
    data: Events | pd.DataFrame,
    conversion: str | Sequence[str] = "purchase",
    lookback: Duration | Sequence[Duration] | None = "30d",
    models: Sequence[str] | None = None,
    *,
    order: int | Sequence[int] = 1,
    position_weights: Sequence[float] = SHAPES["position_based"],
    half_life: Duration = "7d",
    milestones: Sequence[str] = MILESTONES,
    max_coalition_size: int | None = None,
    direct: Sequence[str] = DIRECT_CHANNELS,
    touchpoint: Touchpoint = "session",
    lookback_steps: int | None = None,
    count: Count = "every",
    transform: Transform = "unique",
    max_steps: int | None = None,
    drop_direct: bool = False,
    bootstrap: int = 0,
    seed: int = 0,
) -> Result:
    """Conversions and revenue credited to each channel by each model.

    ``data`` is an :class:`~journeylib.model.events.Events` handle (paths are built
    from its touches, see :mod:`journeylib.analyses.attribution.touchpoints`) or a path
    summary DataFrame. The table has a row per channel and model:
    ``channel, model, conversions, revenue``, then each model's shares.
    ``extras`` holds ``paths`` (the path summary), ``checks`` (the
    invariants), and with ``markov`` its ``removal_effects`` and
    ``transition_matrix``; ``result.view("removal_effects")``,
    ``view("transition_matrix")`` and, with spend, ``view("roas")`` chart them.

    Sensitivity: a list of lookbacks (``["7d", "14d", "30d", "90d"]``) adds a
    ``lookback`` column with every model run on each; a list of Markov orders
    gives models ``markov_1``, ``markov_2``... ``bootstrap=n`` resamples the
    journeys n times (seeded by ``seed``, so repeatable) and adds 95% percentile
    intervals of each share (time decay and W-shaped excepted: they weigh touches,
    not paths).
    Every conversion event is a journey; ``count="first"`` keeps each person's
    first only (acquisition). ``lookback=None`` keeps every earlier touch.
    With a workspace whose ``spend`` table has rows in the events' date range,
    the table gains ``cost``, ``cpa`` and ``roas`` per channel and model.

    Examples
    --------
    >>> paths = pd.DataFrame({"path": ["Email > Paid Search", "Paid Search"],
    ...                       "conversions": [2, 1], "nulls": [1, 3], "value": [100.0, 30.0]})
    >>> r = attribution(paths, models=["first_touch", "linear"])
    >>> r.table[["channel", "model", "conversions", "revenue"]].values.tolist()
    [['Email', 'first_touch', 2.0, 100.0], ['Paid Search', 'first_touch', 1.0, 30.0], \
['Email', 'linear', 1.0, 50.0], ['Paid Search', 'linear', 2.0, 80.0]]
    """
    if lookback is not None and not isinstance(lookback, str | timedelta):
        windows = list(lookback)
        runs = [
            attribution(
                data,
                conversion,
                window,
                models,
                order=order,
                position_weights=position_weights,
                half_life=half_life,
                milestones=milestones,
                max_coalition_size=max_coalition_size,
                direct=direct,
                touchpoint=touchpoint,
                lookback_steps=lookback_steps,
                count=count,
                transform=transform,
                max_steps=max_steps,
                drop_direct=drop_direct,
                bootstrap=bootstrap,
                seed=seed,
            )
            for window in windows
        ]
        return _stack(runs, [str(w) for w in windows])
    chosen = _models(models, events=isinstance(data, Events))
    orders = _orders(order)
    options = Options(tuple(position_weights), tuple(direct), max_coalition_size, orders)
    common: dict[str, Any] = {
        "models": tuple(chosen),
        "order": orders if len(orders) > 1 else orders[0],
        "position_weights": options.shape,
        "max_coalition_size": max_coalition_size,
        "direct": tuple(direct),
        "bootstrap": bootstrap,
        "seed": seed,
    }
    spec = AttributionSpec(**common)
    touch_credits: dict[str, Credit] = {}
    spend: pd.DataFrame | None = None
    if isinstance(data, pd.DataFrame):
        _summary_only(
            conversion=conversion,
            lookback=lookback,
            touchpoint=touchpoint,
            lookback_steps=lookback_steps,
            count=count,
            transform=transform,
            max_steps=max_steps,
            drop_direct=drop_direct,
        )
        journeys = Journeys.from_frame(data)
        sql = SQL.none("the models ran on the path summary given")
    elif isinstance(data, Events):
        names = [conversion] if isinstance(conversion, str) else list(conversion)
        require_events(
            [(n, (n,)) for n in names], data.event_names(), param="conversion", typos_only=True
        )
        paths = PathOptions(
            conversion=(conversion,) if isinstance(conversion, str) else tuple(conversion),
            lookback=parse_duration(lookback, param="lookback") if lookback is not None else None,
            touchpoint=touchpoint,
            lookback_steps=lookback_steps,
            count=count,
            drop_direct=drop_direct,
            direct=tuple(direct),
            transform=transform,
            max_steps=max_steps,
        )
        span = parse_duration(half_life, param="half_life")
        weighers: dict[str, Callable[[ir.Table], ir.Table]] = {
            "time_decay": lambda touches: time_decay(touches, span),
            "w_shaped": lambda touches: w_shaped(data, touches, list(milestones)),
        }
        journeys, touch_credits, sql = _from_events(
            data, paths, {m: weighers[m] for m in chosen if m in weighers}
        )
        _refuse_direct_by_default(data, journeys)
        spend = channel_costs(data)
        spec = EventAttributionSpec(
            **common,
            conversion=paths.conversion,
            lookback=str(lookback) if lookback is not None else None,
            touchpoint=touchpoint,
            lookback_steps=lookback_steps,
            count=count,
            transform=transform,
            max_steps=max_steps,
            drop_direct=drop_direct,
            half_life=str(half_life),
            milestones=tuple(milestones),
        )
    else:
        raise ParameterError(
            "data",
            type(data).__name__,
            reason="Give events (ws.events()) or a path-summary DataFrame.",
        )
    credits, extras = run_models(journeys, chosen, options, touch_credits=touch_credits)
    if transform == "frequency":
        credits = {model: _unlabel(credit) for model, credit in credits.items()}
    table = credit_table(credits)
    checks = check(table, journeys.total_conversions, journeys.total_value)
    if bootstrap:
        intervals = bootstrap_shares(journeys, chosen, options, bootstrap, seed, transform)
        table = table.merge(intervals, on=["channel", "model"], how="left")
    if spend is not None and len(spend):
        table = with_costs(table, spend)
        extras["spend"] = spend
    from journeylib.display.charts import attribution as charts

    views: dict[str, Callable[[Result], Any]] = {}
    if "removal_effects" in extras:  # markov ran
        views |= {
            "removal_effects": charts.removal_effects_chart,
            "transition_matrix": charts.transition_chart,
        }
    if "roas" in table.columns:
        views["roas"] = charts.roas_chart
    return Result(
        "Attribution",
        table,
        sql,
        spec.params(),
        draw=charts.comparison_chart,
        extras={"paths": journeys.to_frame(), "checks": checks, **extras},
        views=views,
    )


@dataclass(frozen=True)
class AttributionSpec(Spec):
    """The parameters of :func:`attribution` that every run has: the models and their settings."""

    models: tuple[str, ...]
    order: int | tuple[int, ...]
    position_weights: tuple[float, ...]
    max_coalition_size: int | None
    direct: tuple[str, ...]
    bootstrap: int
    seed: int


@dataclass(frozen=True)
class EventAttributionSpec(AttributionSpec):
    """The parameters of :func:`attribution` over events: also how touches become paths."""

    conversion: tuple[str, ...] = ("purchase",)
    lookback: str | None = "30d"
    touchpoint: Touchpoint = "session"
    lookback_steps: int | None = None
    count: Count = "every"
    transform: Transform = "unique"
    max_steps: int | None = None
    drop_direct: bool = False
    half_life: str = "7d"
    milestones: tuple[str, ...] = MILESTONES


@dataclass(frozen=True)
class Options:
    """Model settings shared by every run (and by each bootstrap resample)."""

    shape: tuple[float, ...] = SHAPES["position_based"]
    direct: tuple[str, ...] = DIRECT_CHANNELS
    max_coalition_size: int | None = None
    orders: tuple[int, ...] = (1,)

    def weighers(self) -> dict[str, heuristics.Weigh]:
        """The models whose credit is a fixed share of each path's conversions."""
        return {
            "first_touch": heuristics.first_touch,
            "last_touch": heuristics.last_touch,
            "last_non_direct": heuristics.last_non_direct(self.direct),
            "linear": heuristics.linear,
            "position_based": heuristics.positional(self.shape),
            "j_shaped": heuristics.positional(SHAPES["j_shaped"]),
            "inverse_j": heuristics.positional(SHAPES["inverse_j"]),
            "shapley": dividends(self.max_coalition_size),
        }

    def markov_names(self) -> dict[str, int]:
        """Model name per Markov order: ``markov``, or ``markov_k`` for several orders."""
        if len(self.orders) == 1:
            return {"markov": self.orders[0]}
        return {f"markov_{k}": k for k in self.orders}


def run_models(
    journeys: Journeys,
    models: Sequence[str],
    options: Options | None = None,
    *,
    touch_credits: Mapping[str, Credit] | None = None,
) -> tuple[dict[str, Credit], dict[str, pd.DataFrame]]:
    """Each model's credit on the journeys, and the Markov extras (removal effects, matrix).

    Examples
    --------
    >>> j = Journeys.build([("a", "b")], [1], [0])
    >>> credits, _ = run_models(j, ["last_touch"])
    >>> credits["last_touch"].conversions
    {'a': 0.0, 'b': 1.0}
    """
    options = options or Options()
    weighers = options.weighers()
    credits: dict[str, Credit] = {}
    effects: list[pd.DataFrame] = []
    matrices: list[pd.DataFrame] = []
    for model in models:
        if model in weighers:
            credits[model] = heuristics.spread(journeys, weighers[model])
        elif model in TOUCH_MODELS:
            if touch_credits is None or model not in touch_credits:
                raise ParameterError(
                    "models", model, reason=f"{model} needs touch times: give events."
                )
            credits[model] = touch_credits[model]
        else:
            for name, k in options.markov_names().items():
                credits[name], removal, fitted = markov_credit(journeys, k)
                effects.append(removal.assign(order=k))
                matrices.append(fitted.matrix().assign(order=k))
    extras: dict[str, pd.DataFrame] = {}
    if effects:
        extras["removal_effects"] = pd.concat(effects, ignore_index=True)
        extras["transition_matrix"] = pd.concat(matrices, ignore_index=True)
    return credits, extras


def bootstrap_shares(
    journeys: Journeys,
    models: Sequence[str],
    options: Options,
    resamples: int,
    seed: int = 0,
    transform: Transform = "unique",
) -> pd.DataFrame:
    """95% percentile intervals of each model's shares over journeys resampled with replacement.

    Each resample draws as many journeys as there are (conversions + nulls)
    from the observed ones; a converting journey brings its path's mean value.
    The same ``seed`` gives the same intervals.

    Examples
    --------
    >>> j = Journeys.build([("a",), ("b",)], [30, 10], [0, 0])
    >>> b = bootstrap_shares(j, ["last_touch"], Options(), 200, seed=1)
    >>> low, high = b.set_index("channel").loc["a", ["conversion_share_low", "conversion_share_high"]]
    >>> bool(0.6 < low < 0.75 < high < 0.9)
    True
    """
    whole_number("bootstrap", resamples, 2)
    rng = np.random.default_rng(seed)
    counts = np.concatenate([journeys.conversions, journeys.nulls])
    size = len(journeys.paths)
    mean_value = np.divide(
        journeys.value, journeys.conversions, out=np.zeros(size), where=journeys.conversions > 0
    )
    weighers = options.weighers()
    matrices = {m: heuristics.weight_matrix(journeys, weighers[m]) for m in models if m in weighers}
    markovs = [m for m in models if m == "markov"]
    draws: list[pd.DataFrame] = []
    for _ in range(resamples):
        drawn = rng.multinomial(round(counts.sum()), counts / counts.sum())
        sample = Journeys(journeys.paths, drawn[:size], drawn[size:], drawn[:size] * mean_value)
        credits = {m: heuristics.credit(sample, matrix) for m, matrix in matrices.items()}
        if markovs:
            credits |= run_models(sample, markovs, options)[0]
        if transform == "frequency":
            credits = {model: _unlabel(c) for model, c in credits.items()}
        draws.append(credit_table(credits))
    every = pd.concat(draws, ignore_index=True)
    grouped = every.groupby(["channel", "model"], sort=False)
    shares = ["conversion_share", "revenue_share"]
    low = grouped[shares].quantile(0.025).add_suffix("_low")
    high = grouped[shares].quantile(0.975).add_suffix("_high")
    return low.join(high).reset_index()


def channel_costs(ev: Events) -> pd.DataFrame | None:
    """Spend per channel over the calendar days of the events in scope, or None without spend."""
    try:
        spend = ev.engine.ibis.table("spend")
    except TableNotFound:
        return None
    first = ev.table.event_time.min().date().as_scalar()
    last = ev.table.event_time.max().date().as_scalar()
    period = spend.filter([spend.date >= first, spend.date <= last, spend.channel.notnull()])
    costs = period.group_by("channel").aggregate(cost=period.cost.sum())
    return ev.engine.run(costs.order_by("channel"), what="reading spend")


def with_costs(table: pd.DataFrame, costs: pd.DataFrame) -> pd.DataFrame:
    """Add ``cost``, ``cpa`` (cost per credited conversion) and ``roas`` (revenue / cost).

    Channels with spend and no credit get rows with 0 conversions in every model.

    Examples
    --------
    >>> t = pd.DataFrame({"channel": ["a"], "model": ["linear"], "conversions": [4.0],
    ...                   "revenue": [300.0]})
    >>> with_costs(t, pd.DataFrame({"channel": ["a", "b"], "cost": [100.0, 50.0]})).values.tolist()
    [['a', 'linear', 4.0, 300.0, 100.0, 25.0, 3.0], ['b', 'linear', 0.0, 0.0, 50.0, nan, 0.0]]
    """
    missing = [
        {"channel": c, "model": m, "conversions": 0.0, "revenue": 0.0}
        for m in table.model.unique()
        for c in costs.channel
        if not ((table.model == m) & (table.channel == c)).any()
    ]
    if missing:
        table = pd.concat([table, pd.DataFrame(missing)], ignore_index=True)
    merged = table.merge(costs[["channel", "cost"]], on="channel", how="left")
    merged["cpa"] = (merged.cost / merged.conversions).where(merged.conversions > 0)
    merged["roas"] = (merged.revenue / merged.cost).where(merged.cost > 0)
    return merged


def credit_table(credits: Mapping[str, Credit]) -> pd.DataFrame:
    """One row per channel and model, with each model's conversion and revenue shares.

    Examples
    --------
    >>> credit_table({"linear": Credit({"a": 1.0, "b": 3.0}, {"a": 0.0, "b": 0.0})}).values.tolist()
    [['a', 'linear', 1.0, 0.0, 0.25, 0.0], ['b', 'linear', 3.0, 0.0, 0.75, 0.0]]
    """
    frames = []
    for model, credit in credits.items():
        channels = sorted(credit.conversions)
        frame = pd.DataFrame(
            {
                "channel": channels,
                "model": model,
                "conversions": [credit.conversions[c] for c in channels],
                "revenue": [credit.revenue.get(c, 0.0) for c in channels],
            }
        )
        for column, share in (("conversions", "conversion_share"), ("revenue", "revenue_share")):
            total = frame[column].sum()
            frame[share] = frame[column] / total if total > 0 else 0.0
        frames.append(frame)
    columns = [*COLUMNS, "conversion_share", "revenue_share"]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]


def check(table: pd.DataFrame, conversions: float, revenue: float) -> pd.DataFrame:
    """The invariants per model: credits sum to the totals, and none is negative.

    A failed check warns (it would be a defect); the table says which.

    Examples
    --------
    >>> t = pd.DataFrame({"model": ["m", "m"], "conversions": [1.0, 2.0], "revenue": [5.0, 5.0]})
    >>> check(t, 3.0, 10.0).ok.tolist()
    [True]
    """
    rows = []
    for model, group in table.groupby("model", sort=False):
        credited, value = float(group.conversions.sum()), float(group.revenue.sum())
        lowest = float(min(group.conversions.min(), group.revenue.min()))
        ok = (
            abs(credited - conversions) <= TOLERANCE * max(1.0, conversions)
            and abs(value - revenue) <= TOLERANCE * max(1.0, revenue)
            and lowest >= -TOLERANCE
        )
        rows.append((model, credited, conversions, value, revenue, lowest, ok))
    checks = pd.DataFrame(
        rows,
        columns=[
            "model",
            "conversions",
            "expected_conversions",
            "revenue",
            "expected_revenue",
            "lowest_credit",
            "ok",
        ],
    )
    failed = checks.model[~checks.ok].tolist()
    if failed:
        warnings.warn(
            f"attribution invariants failed for {failed}: see extras['checks']",
            RuntimeWarning,
            stacklevel=3,
        )
    return checks


def _orders(order: int | Sequence[int]) -> tuple[int, ...]:
    orders = (order,) if isinstance(order, int) else tuple(order)
    if not orders:
        raise ParameterError("order", order, allowed=range(1, MAX_ORDER + 1))
    for k in orders:
        check_order(k)
    return orders


def _stack(runs: list[Result], labels: list[str]) -> Result:
    """One result from runs over several lookbacks: a ``lookback`` column on every table."""
    first = runs[0]
    tables = [r.table.assign(lookback=label) for r, label in zip(runs, labels, strict=True)]
    extras = {
        name: pd.concat(
            [r.extras[name].assign(lookback=label) for r, label in zip(runs, labels, strict=True)],
            ignore_index=True,
        )
        for name in first.extras
    }
    sql = SQL.of(
        *(query for r in runs for query in r.sql.queries),
        labels=[
            f"lookback {label}: {part}"
            for r, label in zip(runs, labels, strict=True)
            for part in r.sql.labels
        ],
    )
    return replace(
        first,
        table=pd.concat(tables, ignore_index=True),
        sql=sql,
        params={**first.params, "lookback": labels},
        extras=extras,
    )


def _models(models: Sequence[str] | None, *, events: bool) -> tuple[str, ...]:
    if models is None:
        return DEFAULT_MODELS if events else tuple(m for m in DEFAULT_MODELS if m != "time_decay")
    chosen = [models] if isinstance(models, str) else list(models)
    for model in chosen:
        if model not in MODELS:
            raise ParameterError("models", model, allowed=MODELS)
    if not chosen:
        raise ParameterError("models", models, allowed=MODELS, reason="Name at least one model.")
    return tuple(dict.fromkeys(chosen))


def _summary_only(**given: object) -> None:
    """Path-building options apply to events; a path summary is already built."""
    defaults = inspect.signature(attribution).parameters
    for name, value in given.items():
        if value != defaults[name].default:
            raise ParameterError(
                name,
                value,
                reason="It shapes paths built from events; a path summary has its paths.",
            )


def _from_events(
    ev: Events,
    options: PathOptions,
    touch_models: Mapping[str, Callable[[ir.Table], ir.Table]],
) -> tuple[Journeys, dict[str, Credit], SQL]:
    """The path summary, and the credit of the models that weigh touches in the engine."""
    touches = journey_touches(ev, options)
    summary = path_summary(touches)
    frame = ev.engine.run(summary, what="building attribution paths")
    journeys = Journeys.build(
        [tuple(str(label) for label in path) for path in frame.path],
        frame.conversions.tolist(),
        frame.nulls.tolist(),
        frame.value.tolist(),
    )
    queries: list[ir.Table] = [summary]
    names = ["path summary"]
    credits: dict[str, Credit] = {}
    for model, weigh in touch_models.items():
        expr = weighted_credit(weigh(touches))
        credit = ev.engine.run(expr, what=f"{model} attribution")
        conversions = dict.fromkeys(_channels(journeys, options.transform), 0.0)
        revenue = dict(conversions)
        for channel, conv, value in zip(
            credit.channel, credit.conversions, credit.revenue, strict=True
        ):
            conversions[str(channel)] = float(conv)
            revenue[str(channel)] = float(value)
        credits[model] = Credit(conversions, revenue)
        queries.append(expr)
        names.append(f"{model} credit per channel")
    return journeys, credits, SQL.of(*queries, labels=names)


def _refuse_direct_by_default(ev: Events, journeys: Journeys) -> None:
    """A DataError when every touch is Direct because no event says where anyone came from.

    Every model would then give Direct all the credit: the usual cause is a CSV
    mapping that names no source, medium or channel.
    """
    if not journeys.total_conversions or any(
        _label(c) not in DIRECT_CHANNELS for c in journeys.channels
    ):
        return
    t = ev.table
    told = t.filter(
        t.source.notnull() | t.medium.notnull() | t.campaign.notnull() | (t.channel != "Direct")
    )
    if len(ev.engine.run(told.select("channel").limit(1), what="checking the channels")):
        return
    raise DataError(
        "every touch is Direct because no event has a source, medium, campaign or channel,"
        f" so every model would give Direct all the credit. To attribute, {MAP_TRAFFIC}"
    )


_COUNTED = re.compile(r"^(.*)\((\d+)\)$")


def _label(label: str) -> str:
    """The channel of a ``frequency`` path label: ``Email(3)`` is Email."""
    match = _COUNTED.match(label)
    return match.group(1) if match else label


def _channels(journeys: Journeys, transform: str) -> list[str]:
    channels = journeys.channels
    return sorted({_label(c) for c in channels}) if transform == "frequency" else list(channels)


def _unlabel(credit: Credit) -> Credit:
    conversions: dict[str, float] = {}
    revenue: dict[str, float] = {}
    for label, conv in credit.conversions.items():
        channel = _label(label)
        conversions[channel] = conversions.get(channel, 0.0) + conv
        revenue[channel] = revenue.get(channel, 0.0) + credit.revenue.get(label, 0.0)
    return Credit(conversions, revenue)


__all__ = [
    "COLUMNS",
    "DEFAULT_MODELS",
    "DIRECT",
    "MODELS",
    "Journeys",
    "Options",
    "attribution",
    "bootstrap_shares",
    "channel_costs",
    "check",
    "credit_table",
    "run_models",
    "with_costs",
]
