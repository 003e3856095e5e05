"""Markov-chain attribution with exact removal effects (ADR 0008).

Each path becomes a walk ``(start) -> s1 -> ... -> sn -> (conversion) | (null)``
weighted by its conversions and nulls. For order k the states are the last k
channels seen (fewer at the start of a path), so ``a > b > c`` with k = 2
walks ``(start) -> (a) -> (a, b) -> (b, c)``. Transition probabilities are the observed
transition counts divided by each state's outgoing total.

With Q the transient-to-transient block and r the one-step conversion
probabilities, the probability of converting from every state solves
``(I - Q) x = r``; P(conv) is ``x[start]``. Removing channel c sends every
transition into a state that contains c to ``(null)``: the same solve over the
states without c. The removal effect is ``RE_c = 1 - P_{-c} / P``, and channel c
is credited ``RE_c / sum(RE) x total conversions``.

For revenue the right-hand side becomes ``r_s x`` (mean value of the
conversions that ended in state s), so ``x[start]`` is the expected value of a
walk, and value removal effects and credit follow the same way. Both are what
ChannelAttribution's simulation estimates (it draws each simulated
conversion's value from those that ended in the same channel), computed here
exactly by a sparse linear solve.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain as chain_iter
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from journeylib.analyses.attribution.heuristics import Credit
from journeylib.analyses.attribution.journeys import Journeys
from journeylib.core.errors import whole_number

if TYPE_CHECKING:
    from scipy import sparse

START, CONVERSION, NULL = "(start)", "(conversion)", "(null)"
MAX_ORDER = 4

State = tuple[str, ...]


@dataclass(frozen=True)
class Chain:
    """The absorbing chain estimated from journeys: states, probabilities and values.

    ``states[0]`` is ``(start)``; ``transient`` is the sparse transition matrix
    between the transient states; ``conversion`` and ``null`` hold each state's
    one-step probabilities of absorbing there, ``value`` its probability of
    converting times the mean value of those conversions.
    """

    states: tuple[State, ...]
    transient: sparse.csr_matrix
    conversion: np.ndarray
    null: np.ndarray
    value: np.ndarray

    def solve(self, removed: str | None = None) -> tuple[float, float]:
        """(P(conversion), expected value) from ``(start)``, with ``removed`` taken out."""
        from scipy import sparse
        from scipy.sparse import linalg

        keep = np.array([removed is None or removed not in s for s in self.states])
        keep[0] = True
        index = np.flatnonzero(keep)
        q = self.transient[index][:, index]
        system = (sparse.identity(len(index), format="csc") - q).tocsc()
        rhs = np.column_stack([self.conversion[index], self.value[index]])
        solution = np.asarray(linalg.spsolve(system, rhs)).reshape(len(index), 2)
        return float(solution[0, 0]), float(solution[0, 1])

    def matrix(self) -> pd.DataFrame:
        """Long transition table: ``from_state``, ``to_state``, ``probability`` (states as 'a > b')."""
        names = [_name(s) for s in self.states]
        coo = self.transient.tocoo()
        parts = [
            pd.DataFrame(
                {
                    "from_state": [names[i] for i in coo.row],
                    "to_state": [names[j] for j in coo.col],
                    "probability": coo.data,
                }
            )
        ]
        for label, column in ((CONVERSION, self.conversion), (NULL, self.null)):
            rows = np.flatnonzero(column)
            parts.append(
                pd.DataFrame(
                    {
                        "from_state": [names[i] for i in rows],
                        "to_state": label,
                        "probability": column[rows],
                    }
                )
            )
        table = pd.concat(parts, ignore_index=True)
        return table.sort_values(["from_state", "to_state"], ignore_index=True)


def chain(journeys: Journeys, order: int = 1) -> Chain:
    """Estimate the absorbing chain of ``order`` from the journeys.

    Vectorised: every touch of every path is one array element; its state is
    the integer whose base-(channels + 1) digits are the codes of the last
    ``order`` channels (0 before the path starts), and the transition counts
    are one sparse sum over (previous state, state) weighted by the path's
    journeys.

    Examples
    --------
    >>> c = chain(Journeys.build([("a", "b"), ("a",)], [1, 0], [0, 1]))
    >>> c.matrix().values.tolist()
    [['(start)', 'a', 1.0], ['a', '(null)', 0.5], ['a', 'b', 0.5], ['b', '(conversion)', 1.0]]
    """
    from scipy import sparse

    check_order(order)
    lengths = np.fromiter(map(len, journeys.paths), dtype=np.int64, count=len(journeys.paths))
    touches = pd.Categorical(list(chain_iter.from_iterable(journeys.paths)))
    names = [str(c) for c in touches.categories]
    codes = touches.codes.astype(np.int64) + 1  # 0 marks "before the path"
    firsts = np.cumsum(lengths) - lengths
    position = np.arange(len(codes)) - np.repeat(firsts, lengths)
    base = len(names) + 1
    key = np.zeros(len(codes), dtype=np.int64)
    for back in range(order - 1, -1, -1):  # oldest channel first, so digit 0 is the latest
        earlier = np.zeros_like(codes)
        earlier[back:] = codes[: len(codes) - back]
        earlier[position < back] = 0
        key = key * base + earlier
    keys, state = np.unique(key, return_inverse=True)
    state = state.astype(np.int64) + 1  # 0 is (start)
    size = len(keys) + 1
    previous = np.empty_like(state)
    previous[1:] = state[:-1]
    previous[position == 0] = 0
    walkers = (journeys.conversions + journeys.nulls)[np.repeat(np.arange(len(lengths)), lengths)]
    counts = sparse.csr_matrix((walkers, (previous, state)), shape=(size, size))
    ends = state[firsts + lengths - 1]
    conversion, null, value = (
        np.bincount(ends, weights=weights, minlength=size)
        for weights in (journeys.conversions, journeys.nulls, journeys.value)
    )
    total = np.asarray(counts.sum(axis=1)).ravel() + conversion + null
    scale = np.divide(1.0, total, out=np.zeros(size), where=total > 0)
    return Chain(
        ((START,), *(_decode(int(k), base, order, names) for k in keys)),
        sparse.csr_matrix(sparse.diags(scale) @ counts),
        conversion * scale,
        null * scale,
        value * scale,
    )


def _decode(key: int, base: int, order: int, names: list[str]) -> State:
    """The channels of a state key, oldest first."""
    digits = [(key // base**back) % base for back in range(order - 1, -1, -1)]
    return tuple(names[d - 1] for d in digits if d)


def removal_effects(journeys: Journeys, order: int = 1) -> tuple[pd.DataFrame, Chain]:
    """Each channel's removal effect on conversions and on value, exactly.

    Examples
    --------
    Both paths reach b, which converts half the time: P = 0.5. Without a, the
    path through a is lost: P = 0.5 x 0.5, so RE_a = 0.5; without b, P = 0.

    >>> j = Journeys.build([("a", "b"), ("b",)], [1, 1], [1, 1])
    >>> effects, _ = removal_effects(j)
    >>> effects.round(4).values.tolist()
    [['a', 0.5, 0.0], ['b', 1.0, 0.0]]
    """
    fitted = chain(journeys, order)
    base_conversions, base_value = fitted.solve()
    rows = []
    for channel in journeys.channels:
        conversions, value = fitted.solve(removed=channel)
        rows.append(
            (
                channel,
                _effect(conversions, base_conversions),
                _effect(value, base_value),
            )
        )
    table = pd.DataFrame(rows, columns=["channel", "removal_effect", "value_removal_effect"])
    return table, fitted


def markov_credit(journeys: Journeys, order: int = 1) -> tuple[Credit, pd.DataFrame, Chain]:
    """Credit by normalised removal effects: ``RE_c / sum(RE) x total`` (conversions and value).

    Examples
    --------
    >>> j = Journeys.build([("a", "b"), ("b",)], [1, 1], [1, 1], [10.0, 20.0])
    >>> credit, _, _ = markov_credit(j)
    >>> {k: round(v, 4) for k, v in credit.conversions.items()}  # 0.5/1.5 x 2, 1/1.5 x 2
    {'a': 0.6667, 'b': 1.3333}
    """
    effects, fitted = removal_effects(journeys, order)
    conversions = _normalise(effects.removal_effect, journeys.total_conversions)
    revenue = _normalise(effects.value_removal_effect, journeys.total_value)
    channels = effects.channel.tolist()
    credit = Credit(
        dict(zip(channels, conversions, strict=True)), dict(zip(channels, revenue, strict=True))
    )
    return credit, effects, fitted


def _effect(removed: float, base: float) -> float:
    return max(0.0, 1.0 - removed / base) if base > 0 else 0.0


def _normalise(effects: pd.Series, total: float) -> list[float]:
    weight = float(effects.sum())
    return [float(e) / weight * total if weight > 0 else 0.0 for e in effects]


def check_order(order: int) -> None:
    """Raise a ParameterError unless ``order`` is a whole number from 1 to 4."""
    whole_number("order", order, 1, MAX_ORDER)


def _name(state: State) -> str:
    return " > ".join(state)


__all__ = [
    "CONVERSION",
    "MAX_ORDER",
    "NULL",
    "START",
    "Chain",
    "chain",
    "check_order",
    "markov_credit",
    "removal_effects",
]
