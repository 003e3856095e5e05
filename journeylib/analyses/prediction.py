"""Next-step prediction: a k-order Markov model over journeys, checked on a time-based hold-out.

Each unit's cleaned events (see :func:`journeylib.model.sequences.clean_sequence`) give
transitions from a context (the last k events, most recent last) to the next
event, or to ``(exit)`` when the journey has no further event. The engine counts
them per context and next event, split by time: transitions whose next event
(or, for an exit, the last event) falls before the split train the model, the
rest test it. The split is the ``1 - holdout`` quantile of the times of the
events in scope (interpolated, as numpy's default).

Prediction backs off: it uses the longest context seen at least ``min_count``
times in training, then shorter ones, then the overall next-event frequencies.
``extras["evaluation"]`` reports top-1 and top-3 accuracy on the held-out
transitions beside the frequency baseline (always the overall most common
next events), so the gain from the model is plain.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from journeylib.core.durations import epoch_parts
from journeylib.core.errors import ParameterError, whole_number
from journeylib.core.sql import SQL
from journeylib.display.registry import analysis
from journeylib.display.result import Result, lazy_chart
from journeylib.model.events import Events, Unit
from journeylib.model.sequences import SequenceSpec
from journeylib.model.stages import Stages

EXIT = "(exit)"
MAX_ORDER = 4
COLUMNS = ["context", "rank", "next_event", "probability", "observations"]

Context = tuple[str, ...]


@dataclass(frozen=True)
class PredictionSpec(SequenceSpec):
    """The parameters of :func:`predict_next`, checked when made."""

    history: tuple[str, ...] | None = None
    user: str | None = None
    order: int = 2
    top: int = 5
    holdout: float = 0.2
    min_count: int = 5
    stages: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        whole_number("order", self.order, 1, MAX_ORDER)


@analysis(columns=COLUMNS, counts=("observations",))
def predict_next(
    ev: Events,
    history: Sequence[str] | None = None,
    *,
    user: str | None = None,
    order: int = 2,
    top: int = 5,
    holdout: float = 0.2,
    min_count: int = 5,
    unit: Unit = "user",
    collapse_repeats: bool = True,
    rename: Mapping[str, str] | None = None,
    stages: Stages | None = None,
) -> Result:
    """The likely next steps (with ``(exit)``) after a history, a person's latest events, or every context.

    Give ``history`` (event names, oldest first) or ``user`` (their last
    ``order`` events); with neither, the table holds the top next steps of
    every context of length ``order`` seen in training. The model is trained
    on the events before the hold-out split only. With ``stages``, journeys
    run from stage to stage (:meth:`journeylib.Stages.relabel`) and
    ``history`` names stages.

    Examples
    --------
    >>> import journeylib as jl, pathlib, tempfile
    >>> rows = ["user_id,event_name,event_time"]
    >>> for i in range(10):
    ...     rows += [f"u{i},view,2024-01-0{1 + i % 3}T10:00:00Z", f"u{i},cart,2024-01-0{1 + i % 3}T10:01:00Z"]
    ...     rows += [f"u{i},buy,2024-01-0{1 + i % 3}T10:02:00Z"] if i % 2 else []
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "e.csv"
    >>> _ = path.write_text("\\n".join(rows) + "\\n")
    >>> ws = jl.open(); _ = ws.load_events(path)
    >>> p = predict_next(ws.events(), ["view", "cart"], order=2, min_count=1, holdout=0.0)
    >>> p.table[["next_event", "probability"]].values.tolist()
    [['(exit)', 0.5], ['buy', 0.5]]
    """
    spec = PredictionSpec(
        unit,
        collapse_repeats,
        rename,
        history=None if history is None else tuple(history),
        user=user,
        order=order,
        top=top,
        holdout=holdout,
        min_count=min_count,
        stages=stages.spec() if isinstance(stages, Stages) else None,
    )
    if not 0.0 <= holdout < 1.0:
        raise ParameterError("holdout", holdout, reason="Give the held-out share, 0 <= h < 1.")
    if history is not None and user is not None:
        raise ParameterError("user", user, reason="Give a history or a user, not both.")
    if stages is not None:
        if not isinstance(stages, Stages):
            raise ParameterError("stages", stages, reason="Give jl.Stages.")
        ev = stages.relabel(ev)
    seq = spec.sequence(ev)
    counts_expr = _transition_counts(seq, order, holdout, ev.table.event_time)
    counts = ev.engine.run(counts_expr, what="counting next steps")
    model = _Model(counts[counts.train], order, min_count)
    if user is not None:
        history = _latest(ev, seq, user, order)
    contexts = [tuple(history)[-order:]] if history is not None else model.contexts()
    rows = [
        (" > ".join(context), rank, event, probability, observations)
        for context in contexts
        for rank, (event, probability, observations) in enumerate(
            model.predict(context)[:top], start=1
        )
    ]
    table = pd.DataFrame(rows, columns=COLUMNS)
    evaluation = model.evaluate(counts[~counts.train])
    if history is not None:
        spec = replace(spec, history=tuple(history))
    return Result(
        "Likely next steps",
        table,
        SQL.of(counts_expr),
        spec.params(),
        draw=lazy_chart("prediction", "next_steps_chart"),
        extras={"evaluation": evaluation},
    )


def _transition_counts(
    seq: ir.Table, order: int, holdout: float, times: ir.TimestampColumn
) -> ir.Table:
    """``c1..ck`` (c1 the current event), ``next``, ``train``, ``n`` per distinct transition."""
    window = ibis.window(group_by="unit", order_by="pos")
    context = {f"c{j}": seq.event.lag(j - 1).over(window) for j in range(1, order + 1)}
    following = seq.event.lead().over(window)
    when = seq.t.lead().over(window)
    rows = seq.mutate(**context, next=following.fill_null(EXIT), t_next=when.fill_null(seq.t))
    split = _epoch(times).quantile(1.0 - holdout).as_scalar() if holdout else None
    train = (_epoch(rows.t_next) < split if split is not None else ibis.literal(True)).name("train")
    keys = [*context, "next"]
    marked = rows.mutate(train=train)
    return marked.group_by([*keys, "train"]).aggregate(n=marked.count()).order_by([*keys, "train"])


def _epoch(t: ir.TimestampValue) -> ir.FloatingValue:
    whole, fraction = epoch_parts(t)
    return whole + fraction


def _latest(ev: Events, seq: ir.Table, user: str, order: int) -> list[str]:
    mine = seq.filter(seq.unit == user).order_by(ibis.desc("pos")).limit(order)
    events = ev.engine.run(mine, what="reading the person's latest events")
    if events.empty:
        raise ParameterError("user", user, reason="No events for this unit.")
    return [str(e) for e in reversed(events.event.tolist())]


class _Model:
    """Next-event counts per context length (0 = no context: the frequency baseline)."""

    def __init__(self, train: pd.DataFrame, order: int, min_count: int) -> None:
        self.order, self.min_count = order, min_count
        self.tables: list[dict[Context, Counter[str]]] = [{} for _ in range(order + 1)]
        for row in train.to_dict("records"):
            recent = [row[f"c{j}"] for j in range(order, 0, -1)]  # oldest first
            for length in range(order + 1):
                tail = recent[order - length :]
                if any(e is None or e != e for e in tail):
                    continue
                table = self.tables[length].setdefault(tuple(tail), Counter())
                table[str(row["next"])] += int(row["n"])

    def contexts(self) -> list[Context]:
        return sorted(c for c, n in self.tables[self.order].items() if n.total() >= self.min_count)

    def predict(self, context: Context) -> list[tuple[str, float, int]]:
        """(next event, probability, observations) from the longest well-observed context."""
        for length in range(min(len(context), self.order), -1, -1):
            counts = self.tables[length].get(tuple(context[len(context) - length :]))
            if counts and (counts.total() >= self.min_count or length == 0):
                total = counts.total()
                ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
                return [(event, n / total, total) for event, n in ranked]
        return []

    def evaluate(self, test: pd.DataFrame) -> pd.DataFrame:
        """Top-1 and top-3 accuracy on held-out transitions, model beside the frequency baseline."""
        baseline = [e for e, _, _ in self.predict(())]
        hits = {"model": [0, 0], "baseline": [0, 0]}
        total = 0
        for row in test.to_dict("records"):
            recent = [row[f"c{j}"] for j in range(self.order, 0, -1)]
            context = tuple(str(e) for e in recent if e is not None and e == e)
            guesses = [e for e, _, _ in self.predict(context)]
            n, actual = int(row["n"]), str(row["next"])
            total += n
            for name, ranked in (("model", guesses), ("baseline", baseline)):
                hits[name][0] += n * (actual in ranked[:1])
                hits[name][1] += n * (actual in ranked[:3])
        rows = [
            (
                f"Markov order {self.order}" if name == "model" else "frequency baseline",
                total,
                top1 / total if total else float("nan"),
                top3 / total if total else float("nan"),
            )
            for name, (top1, top3) in hits.items()
        ]
        return pd.DataFrame(rows, columns=["model", "test_transitions", "top1", "top3"])


__all__ = ["COLUMNS", "EXIT", "predict_next"]
