"""Shapley attribution over channel sets, exact (ADR 0008).

Channels are the players. The worth of a coalition S is what the journeys
whose channel set lies inside S produced: ``v(S) = sum of conversions (or
value) of journeys with set(path) ⊆ S``. Channel c's Shapley value is

    phi_c = sum over S ⊆ N \\ {c} of |S|! (n - |S| - 1)! / n! x [v(S ∪ {c}) - v(S)].

This game is a sum of unanimity games: with a(T) the conversions of journeys
whose channel set is exactly T, ``v(S) = sum over T ⊆ S of a(T)``, and the
Shapley value of the unanimity game on T gives 1/|T| to each member of T.
Because the Shapley value is linear, ``phi_c = sum over T ∋ c of a(T) / |T|``
exactly: one pass over the distinct channel sets instead of 2^n coalitions,
so any number of channels is fast. (The tests check this against the
coalition formula above, enumerated in full.)

``max_coalition_size=k`` caps a journey's coalition at its k most recently
touched channels (DP6's ``size``), for analyses that want to bound how many
channels share one conversion; totals are unchanged.
"""

from __future__ import annotations

import numpy as np

from journeylib.analyses.attribution.heuristics import Credit, Weigh, spread
from journeylib.analyses.attribution.journeys import Journeys
from journeylib.core.errors import whole_number


def coalition(path: tuple[str, ...], max_size: int | None = None) -> frozenset[str]:
    """The channels of a path, capped to its ``max_size`` most recently touched.

    Examples
    --------
    >>> sorted(coalition(("a", "b", "a", "c"), 2))
    ['a', 'c']
    """
    if max_size is None:
        return frozenset(path)
    recent: list[str] = []
    for channel in reversed(path):
        if channel not in recent:
            recent.append(channel)
    return frozenset(recent[:max_size])


def shapley(journeys: Journeys, max_coalition_size: int | None = None) -> Credit:
    """Exact Shapley values of the conversions game and of the value game.

    Examples
    --------
    a + b together made 3 conversions, b alone 1: v({a,b}) = 4, v({b}) = 1,
    v({a}) = 0, so phi_a = (0 + 3) / 2 and phi_b = (1 + 4) / 2.

    >>> j = Journeys.build([("a", "b"), ("b",)], [3, 1], [0, 2])
    >>> shapley(j).conversions
    {'a': 1.5, 'b': 2.5}
    """
    return spread(journeys, dividends(max_coalition_size))


def dividends(max_coalition_size: int | None = None) -> Weigh:
    """Per path: 1/|T| to the first touch of each channel in its coalition T, 0 elsewhere.

    Summed over paths with their conversions this is ``sum over T ∋ c of a(T) / |T|``.

    Examples
    --------
    >>> dividends()(("a", "b", "a")).tolist()
    [0.5, 0.5, 0.0]
    """
    if max_coalition_size is not None:
        whole_number("max_coalition_size", max_coalition_size)

    def weigh(path: tuple[str, ...]) -> np.ndarray:
        members = coalition(path, max_coalition_size)
        weights = np.zeros(len(path))
        for channel in members:
            weights[path.index(channel)] = 1.0 / len(members)
        return weights

    return weigh


__all__ = ["coalition", "dividends", "shapley"]
