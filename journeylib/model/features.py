"""What people did inside a funnel attempt, and how it differs between converters and droppers.

Drivers and drop-off both compare the people who reached a step and went on
with those who left: a feature is an event they did or a value their events
carried within their span, counted in the engine; the odds ratio and Fisher's
p per feature are computed here on those small counts.
"""

from __future__ import annotations

import math

import ibis
import ibis.expr.types as ir
import pandas as pd

from journeylib.model.events import Events, property_string
from journeylib.model.statistics import odds_ratio

#: the stable columns, in order
COLUMNS = [
    "feature",
    "kind",
    "value",
    "converters_with",
    "droppers_with",
    "conversion_with",
    "conversion_without",
    "odds_ratio",
    "odds_ratio_low",
    "odds_ratio_high",
    "p_value",
    "direction",
]


def _totals(people: ir.Table) -> ir.Table:
    """Converters and droppers among the people compared."""
    return people.aggregate(
        converters=people.converted.cast("int64").sum(),
        droppers=(~people.converted).cast("int64").sum(),
    )


def feature_counts(
    ev: Events,
    people: ir.Table,
    step_names: list[str],
    columns: list[str],
    extra: ir.Table | None = None,
) -> ir.Table:
    """Per feature, converters and droppers with it beside the totals of each.

    ``people`` has ``unit, converted, since, until``; a feature is an event
    (other than ``step_names``) or a ``columns`` value of the person's events in
    ``[since, until]``, plus any distinct ``unit, kind, value`` rows in ``extra``.
    """
    features = _features(ev, people, step_names, columns)
    if extra is not None:
        features = ibis.union(features, extra, distinct=True)
    return _counts(people, features)


def _features(ev: Events, people: ir.Table, step_names: list[str], columns: list[str]) -> ir.Table:
    """Distinct ``unit, kind, value`` for what each person did in their span."""
    t = ev.table
    inside = t.join(
        people,
        [t.user_id == people.unit, t.event_time >= people.since, t.event_time <= people.until],
    )
    own = inside.filter(~inside.event_name.isin(step_names))
    parts = [own.select("unit", kind=ibis.literal("event"), value=own.event_name)]
    for name in columns:  # values count on the step events too: the device at checkout
        value = inside[name].cast("string") if name in t.columns else property_string(inside, name)
        parts.append(inside.select("unit", kind=ibis.literal(name), value=value))
    every = ibis.union(*parts, distinct=False)
    return every.filter(every.value.notnull()).distinct()


def _counts(people: ir.Table, features: ir.Table) -> ir.Table:
    """Per feature: converters and droppers with it, beside the totals of each."""
    totals = _totals(people)
    joined = features.join(people, features.unit == people.unit).select(
        features.kind, features.value, people.converted
    )
    per = joined.group_by(["kind", "value"]).aggregate(
        converters_with=joined.converted.cast("int64").sum(),
        droppers_with=(~joined.converted).cast("int64").sum(),
    )
    return per.cross_join(totals).order_by(["kind", "value"])


def odds_table(frame: pd.DataFrame, min_support: int) -> pd.DataFrame:
    """Odds ratio, interval and Fisher's p per feature of :func:`feature_counts` with enough people."""
    from scipy import stats

    rows = []
    for r in frame.itertuples(index=False):
        a, b = int(r.converters_with), int(r.droppers_with)  # type: ignore[arg-type]
        c, d = int(r.converters) - a, int(r.droppers) - b  # type: ignore[arg-type]
        if a + b < min_support:
            continue
        ratio, low, high = odds_ratio(a, b, c, d)
        p_value = float(stats.fisher_exact([[a, b], [c, d]]).pvalue)
        feature = str(r.value) if r.kind in ("event", "feedback") else f"{r.kind} = {r.value}"
        rows.append(
            (
                feature,
                r.kind,
                r.value,
                a,
                b,
                a / (a + b),
                c / (c + d) if c + d else math.nan,
                ratio,
                low,
                high,
                p_value,
                "more likely" if ratio > 1 else "less likely",
            )
        )
    table = pd.DataFrame(rows, columns=COLUMNS)
    return table.sort_values(["odds_ratio", "feature"], ascending=[False, True], ignore_index=True)
