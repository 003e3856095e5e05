"""Rule-based models: each conversion's credit spread over its touches by position.

Weights per conversion sum to 1 and go to touch *occurrences*: a channel seen
twice on a path collects both weights (ChannelAttribution, fractribution and
Snowplow do the same). Credit is weight x conversions, and weight x value for
revenue.

- ``first_touch``, ``last_touch``: all to the first (last) touch.
- ``last_non_direct``: all to the last touch outside the direct channels; a
  path of direct touches only gives it to its last touch (GA4's "paid and
  organic last click").
- ``linear``: 1/n to each of the n touches.
- ``position_based`` (U-shaped): 40% first, 40% last, 20% split over the middle;
  two touches share first+last in proportion (50/50); one touch takes all.
  ``j_shaped`` is 20/20/60 and ``inverse_j`` 60/20/20 (Mixpanel), so two
  touches give 25/75 and 75/25.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from journeylib.analyses.attribution.journeys import DIRECT, Journeys
from journeylib.core.errors import ParameterError

if TYPE_CHECKING:
    from scipy import sparse

#: (first, middle, last) shares of the position-based models
SHAPES: dict[str, tuple[float, float, float]] = {
    "position_based": (0.4, 0.2, 0.4),
    "j_shaped": (0.2, 0.2, 0.6),
    "inverse_j": (0.6, 0.2, 0.2),
}
#: channels that count as direct for ``last_non_direct`` and ``drop_direct``
DIRECT_CHANNELS = ("Direct", DIRECT)

Weigh = Callable[[tuple[str, ...]], np.ndarray]


@dataclass(frozen=True)
class Credit:
    """Conversions and revenue credited to each channel by one model."""

    conversions: dict[str, float]
    revenue: dict[str, float]


def spread(journeys: Journeys, weigh: Weigh) -> Credit:
    """Credit each converting path's conversions and value by its touch weights.

    Examples
    --------
    >>> j = Journeys.build([("a", "b")], [3], [0], [30.0])
    >>> spread(j, lambda path: np.array([0.25, 0.75])).revenue
    {'a': 7.5, 'b': 22.5}
    """
    return credit(journeys, weight_matrix(journeys, weigh))


def weight_matrix(journeys: Journeys, weigh: Weigh) -> sparse.csr_matrix:
    """Paths x channels: the share of one conversion on each path that goes to each channel.

    A model whose credit is linear in the conversions is this matrix, so
    resampled conversions (a bootstrap) cost one product each.

    Examples
    --------
    >>> j = Journeys.build([("a", "b", "a")], [1], [0])
    >>> weight_matrix(j, linear).toarray().round(4).tolist()
    [[0.6667, 0.3333]]
    """
    from scipy import sparse

    column = {c: i for i, c in enumerate(journeys.channels)}
    rows, cols, data = [], [], []
    for row, path in enumerate(journeys.paths):
        for channel, weight in zip(path, weigh(path).tolist(), strict=True):
            rows.append(row)
            cols.append(column[channel])
            data.append(weight)
    shape = (len(journeys.paths), len(column))
    return sparse.csr_matrix((data, (rows, cols)), shape=shape)


def credit(journeys: Journeys, weights: sparse.csr_matrix) -> Credit:
    """Conversions and value credited through a paths x channels weight matrix."""
    channels = journeys.channels
    conversions = weights.T @ journeys.conversions
    revenue = weights.T @ journeys.value
    return Credit(
        dict(zip(channels, conversions.tolist(), strict=True)),
        dict(zip(channels, revenue.tolist(), strict=True)),
    )


def first_touch(path: tuple[str, ...]) -> np.ndarray:
    """All credit to the first touch.

    Examples
    --------
    >>> first_touch(("a", "b", "c")).tolist()
    [1.0, 0.0, 0.0]
    """
    weights = np.zeros(len(path))
    weights[0] = 1.0
    return weights


def last_touch(path: tuple[str, ...]) -> np.ndarray:
    """All credit to the last touch.

    Examples
    --------
    >>> last_touch(("a", "b", "c")).tolist()
    [0.0, 0.0, 1.0]
    """
    return first_touch(path)[::-1]


def last_non_direct(direct: Collection[str] = DIRECT_CHANNELS) -> Weigh:
    """All credit to the last touch outside ``direct``, or the last touch if all are direct.

    Examples
    --------
    >>> last_non_direct()(("Email", "Paid Search", "Direct")).tolist()
    [0.0, 1.0, 0.0]
    >>> last_non_direct()(("Direct", "Direct")).tolist()
    [0.0, 1.0]
    """
    excluded = frozenset(direct)

    def weigh(path: tuple[str, ...]) -> np.ndarray:
        weights = np.zeros(len(path))
        chosen = next((i for i in range(len(path) - 1, -1, -1) if path[i] not in excluded), None)
        weights[len(path) - 1 if chosen is None else chosen] = 1.0
        return weights

    return weigh


def linear(path: tuple[str, ...]) -> np.ndarray:
    """1/n to each of the n touches.

    Examples
    --------
    >>> linear(("a", "b", "a", "c")).tolist()
    [0.25, 0.25, 0.25, 0.25]
    """
    return np.full(len(path), 1.0 / len(path))


def positional(shape: Sequence[float] = SHAPES["position_based"]) -> Weigh:
    """Shares for the first touch, the middle touches together, and the last touch.

    Examples
    --------
    >>> positional()(("a", "b", "c", "d")).tolist()
    [0.4, 0.1, 0.1, 0.4]
    >>> positional()(("a", "b")).tolist()
    [0.5, 0.5]
    >>> positional(SHAPES["j_shaped"])(("a", "b")).round(12).tolist()
    [0.25, 0.75]
    """
    first, middle, last = _shape(shape)

    def weigh(path: tuple[str, ...]) -> np.ndarray:
        n = len(path)
        if n == 1:
            return np.ones(1)
        if n == 2:
            return np.array([first, last]) / (first + last)
        weights = np.full(n, middle / (n - 2))
        weights[0], weights[-1] = first, last
        return weights

    return weigh


def _shape(shape: Sequence[float]) -> tuple[float, float, float]:
    values = tuple(float(s) for s in shape)
    if (
        len(values) != 3
        or min(values) < 0
        or values[0] + values[2] <= 0
        or abs(sum(values) - 1.0) > 1e-9
    ):
        raise ParameterError(
            "position_weights",
            shape,
            reason="Give (first, middle, last) shares >= 0 that sum to 1, e.g. (0.4, 0.2, 0.4).",
        )
    return values[0], values[1], values[2]


__all__ = [
    "DIRECT_CHANNELS",
    "SHAPES",
    "Credit",
    "credit",
    "first_touch",
    "last_non_direct",
    "last_touch",
    "linear",
    "positional",
    "spread",
    "weight_matrix",
]
