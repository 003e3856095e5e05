"""Attribution models on path summaries: hand-worked golden paths, brute-force oracles, properties."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeylib.analyses.attribution import attribution
from journeylib.analyses.attribution.journeys import Journeys
from journeylib.analyses.attribution.markov import chain, removal_effects
from journeylib.analyses.attribution.shapley import shapley
from journeylib.core.errors import DataError, ParameterError

# Four paths worked by hand below (value is revenue per path):
#   A > B > C > B   2 conversions, value 100, 1 null
#   B               1 conversion,  value 10
#   Direct > A > Direct  1 conversion, value 40
#   C > C           0 conversions, 3 nulls
GOLDEN = pd.DataFrame(
    {
        "path": ["A > B > C > B", "B", "Direct > A > Direct", "C > C"],
        "conversions": [2, 1, 1, 0],
        "nulls": [1, 0, 0, 3],
        "value": [100.0, 10.0, 40.0, 0.0],
    }
)


def credits(table: pd.DataFrame, model: str, column: str = "conversions") -> dict[str, float]:
    rows = table[table.model == model]
    return {c: round(float(v), 10) for c, v in zip(rows.channel, rows[column], strict=True)}


def test_heuristics_golden_paths_by_hand() -> None:
    table = attribution(
        GOLDEN,
        models=[
            "first_touch",
            "last_touch",
            "last_non_direct",
            "linear",
            "position_based",
            "j_shaped",
            "inverse_j",
        ],
    ).table
    # first touch: A gets path 1 (2 conv, 100), B path 2 (1, 10), Direct path 3 (1, 40)
    assert credits(table, "first_touch") == {"A": 2.0, "B": 1.0, "C": 0.0, "Direct": 1.0}
    assert credits(table, "first_touch", "revenue") == {
        "A": 100.0,
        "B": 10.0,
        "C": 0.0,
        "Direct": 40.0,
    }
    # last touch: B ends paths 1 and 2 (3 conv, 110), Direct ends path 3
    assert credits(table, "last_touch") == {"A": 0.0, "B": 3.0, "C": 0.0, "Direct": 1.0}
    # last non-direct: path 3's last non-direct touch is A
    assert credits(table, "last_non_direct") == {"A": 1.0, "B": 3.0, "C": 0.0, "Direct": 0.0}
    assert credits(table, "last_non_direct", "revenue") == {
        "A": 40.0,
        "B": 110.0,
        "C": 0.0,
        "Direct": 0.0,
    }
    # linear, per occurrence: path 1 gives 2/4 to A, B, C, B -> A 0.5, B 1.0, C 0.5;
    # path 2: B 1; path 3: Direct 2/3, A 1/3
    assert credits(table, "linear") == pytest.approx(
        {"A": 0.5 + 1 / 3, "B": 2.0, "C": 0.5, "Direct": 2 / 3}, abs=1e-9
    )
    # revenue: path 1 100/4 each -> A 25, B 50, C 25; B +10; path 3: Direct 80/3, A 40/3
    assert credits(table, "linear", "revenue") == pytest.approx(
        {"A": 25 + 40 / 3, "B": 60.0, "C": 25.0, "Direct": 80 / 3}, abs=1e-9
    )
    # position based 40/20/40: path 1 (n=4): A .4, B .1 + .4, C .1 -> x2 conversions
    #   path 3 (n=3): Direct .4 + .4, A .2; path 2: B 1
    assert credits(table, "position_based") == pytest.approx(
        {"A": 0.8 + 0.2, "B": 1.0 + 1.0, "C": 0.2, "Direct": 0.8}, abs=1e-9
    )
    # J 20/20/60: path 1: A .2, C .1, B .1 + .6 (x2); path 3: Direct .2 + .6, A .2
    assert credits(table, "j_shaped") == pytest.approx(
        {"A": 0.4 + 0.2, "B": 1.4 + 1.0, "C": 0.2, "Direct": 0.8}, abs=1e-9
    )
    # inverse J 60/20/20: path 1: A .6, B .1 + .2, C .1 (x2); path 3: Direct .6 + .2, A .2
    assert credits(table, "inverse_j") == pytest.approx(
        {"A": 1.2 + 0.2, "B": 0.6 + 1.0, "C": 0.2, "Direct": 0.8}, abs=1e-9
    )


def test_position_based_two_touches_and_custom_weights() -> None:
    paths = pd.DataFrame({"path": ["a > b", "a > b > c"], "conversions": [1, 1], "nulls": [0, 0]})
    table = attribution(paths, models=["position_based"]).table
    # n=2 -> 50/50; n=3 -> .4/.2/.4
    assert credits(table, "position_based") == pytest.approx({"a": 0.9, "b": 0.7, "c": 0.4})
    custom = attribution(paths, models=["position_based"], position_weights=(0.3, 0.6, 0.1))
    # n=2 -> .3/.4 = .75 and .1/.4 = .25; n=3 -> .3/.6/.1
    assert credits(custom.table, "position_based") == pytest.approx(
        {"a": 1.05, "b": 0.85, "c": 0.1}
    )
    with pytest.raises(ParameterError, match="position_weights"):
        attribution(paths, models=["position_based"], position_weights=(0.5, 0.5, 0.5))


def test_last_non_direct_all_direct_keeps_last_touch_and_custom_direct_set() -> None:
    paths = pd.DataFrame(
        {"path": ["Direct > Direct", "Email > (direct)"], "conversions": [1, 1], "nulls": [0, 0]}
    )
    table = attribution(paths, models=["last_non_direct"]).table
    assert credits(table, "last_non_direct") == {"(direct)": 0.0, "Direct": 1.0, "Email": 1.0}
    mine = attribution(paths, models=["last_non_direct"], direct=["Email"]).table
    assert credits(mine, "last_non_direct") == {"(direct)": 1.0, "Direct": 1.0, "Email": 0.0}


def test_markov_first_order_by_hand() -> None:
    # a: 1 conv 1 null (value 100); b: 1 conv (10); a > b: 1 conv (30)
    # start->a 3/4, start->b 1/4; a->conv, a->null, a->b 1/3 each; b->conv 1
    # P = 3/4 (1/3 + 1/3) + 1/4 = 3/4; mean value ending in a 100, in b 40/2 = 20
    # E[V] = 3/4 (100/3 + 20/3) + 1/4 x 20 = 35
    # without a: P = 1/4, E = 5 -> RE_a = 2/3, REv_a = 6/7
    # without b: P = 3/4 x 1/3 = 1/4, E = 3/4 x 100/3 = 25 -> RE_b = 2/3, REv_b = 2/7
    paths = pd.DataFrame(
        {
            "path": ["a", "b", "a > b"],
            "conversions": [1, 1, 1],
            "nulls": [1, 0, 0],
            "value": [100.0, 10.0, 30.0],
        }
    )
    result = attribution(paths, models=["markov"])
    effects = result.extras["removal_effects"].set_index("channel")
    assert effects.removal_effect.to_dict() == pytest.approx({"a": 2 / 3, "b": 2 / 3})
    assert effects.value_removal_effect.to_dict() == pytest.approx({"a": 6 / 7, "b": 2 / 7})
    # conversions 3 split 1:1; revenue 140 split 6:2
    assert credits(result.table, "markov") == pytest.approx({"a": 1.5, "b": 1.5})
    assert credits(result.table, "markov", "revenue") == pytest.approx({"a": 105.0, "b": 35.0})
    matrix = result.extras["transition_matrix"]
    row = matrix[(matrix.from_state == "a") & (matrix.to_state == "(conversion)")]
    assert row.probability.tolist() == pytest.approx([1 / 3])


def test_markov_second_order_sees_what_first_order_cannot() -> None:
    # a > c always converts, b > c never does.
    # order 1: c converts half the time whichever came first -> RE_a = RE_b = 1/2, RE_c = 1
    #   credits (2 conversions): a 0.5, b 0.5, c 1.0
    # order 2: states (a,c) -> conv, (b,c) -> null: RE_a = 1, RE_b = 0, RE_c = 1 -> a 1, b 0, c 1
    paths = pd.DataFrame({"path": ["a > c", "b > c"], "conversions": [2, 0], "nulls": [0, 2]})
    first = attribution(paths, models=["markov"]).table
    second = attribution(paths, models=["markov"], order=2).table
    assert credits(first, "markov") == pytest.approx({"a": 0.5, "b": 0.5, "c": 1.0})
    assert credits(second, "markov") == pytest.approx({"a": 1.0, "b": 0.0, "c": 1.0})


def test_markov_without_conversions_credits_nothing() -> None:
    paths = pd.DataFrame({"path": ["a > b"], "conversions": [0], "nulls": [4]})
    table = attribution(paths, models=["markov", "linear"]).table
    assert table.conversions.tolist() == [0.0, 0.0, 0.0, 0.0]


def walk_outcomes(journeys: Journeys, order: int, steps: int = 400) -> dict[str | None, float]:
    """Monte-Carlo-free oracle: push the start distribution through the chain step by step,
    remembering which channels each walk has visited; return P(convert without visiting c)
    for every c (None: converted at all). No linear solve, no chain surgery."""
    fitted = chain(journeys, order)
    probabilities = fitted.transient.toarray()
    channels = journeys.channels
    # state of the propagation: (chain state index, frozenset of channels visited) -> mass
    mass: dict[tuple[int, frozenset[str]], float] = {(0, frozenset()): 1.0}
    converted: dict[frozenset[str], float] = {}
    for _ in range(steps):
        following: dict[tuple[int, frozenset[str]], float] = {}
        for (i, seen), p in mass.items():
            if fitted.conversion[i] > 0:
                converted[seen] = converted.get(seen, 0.0) + p * fitted.conversion[i]
            for j in np.flatnonzero(probabilities[i]):
                visited = seen | set(fitted.states[j])
                key = (int(j), frozenset(visited))
                following[key] = following.get(key, 0.0) + p * probabilities[i, j]
        mass = {k: v for k, v in following.items() if v > 1e-18}
    outcome: dict[str | None, float] = {None: sum(converted.values())}
    for c in channels:
        outcome[c] = sum(p for seen, p in converted.items() if c not in seen)
    return outcome


def coalition_shapley(journeys: Journeys, value: bool = False) -> dict[str, float]:
    """The Shapley formula enumerated over every coalition, v(S) summed from the journeys."""
    players = journeys.channels
    n = len(players)

    def worth(coalition: frozenset[str]) -> float:
        return sum(
            (val if value else conv)
            for path, conv, val in journeys.converting()
            if set(path) <= coalition
        )

    phi = {}
    for c in players:
        others = [p for p in players if p != c]
        total = 0.0
        for size in range(n):
            weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            for subset in itertools.combinations(others, size):
                s = frozenset(subset)
                total += weight * (worth(s | {c}) - worth(s))
        phi[c] = total
    return phi


VALUED_PATHS = st.lists(
    st.tuples(
        st.lists(st.sampled_from("abcde"), min_size=1, max_size=5),
        st.integers(0, 6),
        st.integers(0, 3),
        st.floats(0, 100, allow_nan=False),
    ),
    min_size=1,
    max_size=8,
)


def build(rows) -> Journeys:
    return Journeys.build(
        [tuple(p) for p, *_ in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] if r[1] else 0.0 for r in rows],
    )


@settings(max_examples=40, derandomize=True, deadline=None)
@given(VALUED_PATHS, st.integers(1, 3))
def test_markov_removal_effect_equals_walk_enumeration(rows, order) -> None:
    journeys = build(rows)
    if journeys.total_conversions == 0:
        return
    effects, _ = removal_effects(journeys, order)
    outcome = walk_outcomes(journeys, order)
    base = outcome[None]
    for channel, effect in zip(effects.channel, effects.removal_effect, strict=True):
        assert effect == pytest.approx(1 - outcome[channel] / base, abs=1e-9)


@settings(max_examples=60, derandomize=True, deadline=None)
@given(VALUED_PATHS)
def test_shapley_equals_coalition_formula_and_is_efficient(rows) -> None:
    journeys = build(rows)
    credit = shapley(journeys)
    assert credit.conversions == pytest.approx(coalition_shapley(journeys), abs=1e-9)
    assert credit.revenue == pytest.approx(coalition_shapley(journeys, value=True), abs=1e-7)
    # efficiency: phi sums to v(N)
    assert sum(credit.conversions.values()) == pytest.approx(journeys.total_conversions)
    assert sum(credit.revenue.values()) == pytest.approx(journeys.total_value)


@settings(max_examples=60, derandomize=True, deadline=None)
@given(VALUED_PATHS)
def test_shapley_symmetry_and_null_channel(rows) -> None:
    journeys = build(rows)
    # symmetry: swapping the names a <-> b everywhere swaps their credit
    swap = {"a": "b", "b": "a"}
    mirrored = Journeys.build(
        [tuple(swap.get(c, c) for c in p) for p in journeys.paths],
        journeys.conversions,
        journeys.nulls,
        journeys.value,
    )
    original, swapped = shapley(journeys).conversions, shapley(mirrored).conversions
    for channel, credit in original.items():
        assert swapped[swap.get(channel, channel)] == pytest.approx(credit, abs=1e-9)
    # null player: a channel only on non-converting paths gets nothing
    with_null = Journeys.build(
        [*journeys.paths, ("z",), ("z", "a")],
        [*journeys.conversions, 0, 0],
        [*journeys.nulls, 3, 1],
        [*journeys.value, 0, 0],
    )
    assert shapley(with_null).conversions["z"] == 0.0


def test_shapley_golden_three_channels() -> None:
    # a > b: 4 conversions, b > c > b: 3, c: 2
    # dividends: {a,b} 4 -> a 2, b 2; {b,c} 3 -> b 1.5, c 1.5; {c} 2 -> c 2
    paths = pd.DataFrame(
        {"path": ["a > b", "b > c > b", "c"], "conversions": [4, 3, 2], "nulls": [1, 1, 1]}
    )
    table = attribution(paths, models=["shapley"]).table
    assert credits(table, "shapley") == {"a": 2.0, "b": 3.5, "c": 3.5}
    # capped at 1 channel: each journey's most recent channel takes it: b 4 + 3, c 2
    capped = attribution(paths, models=["shapley"], max_coalition_size=1).table
    assert credits(capped, "shapley") == {"a": 0.0, "b": 7.0, "c": 2.0}


def test_shapley_twelve_channels_is_exact_and_quick() -> None:
    rng = np.random.default_rng(7)
    channels = [f"ch{i:02d}" for i in range(12)]
    rows = [
        (" > ".join(rng.choice(channels, size=rng.integers(1, 8))), int(rng.integers(0, 9)), 1)
        for _ in range(3000)
    ]
    paths = pd.DataFrame(rows, columns=["path", "conversions", "nulls"])
    result = attribution(paths, models=["shapley"])
    assert result.table.conversions.sum() == pytest.approx(paths.conversions.sum())
    assert result.extras["checks"].ok.all()


def test_every_model_satisfies_the_invariants() -> None:
    result = attribution(GOLDEN)
    checks = result.extras["checks"].set_index("model")
    assert checks.ok.all()
    assert set(checks.index) == {
        "first_touch",
        "last_touch",
        "last_non_direct",
        "linear",
        "position_based",
        "markov",
        "shapley",
    }
    assert checks.expected_conversions.unique().tolist() == [4.0]
    assert checks.expected_revenue.unique().tolist() == [150.0]
    assert list(result.table.columns[:4]) == ["channel", "model", "conversions", "revenue"]


def test_direct_for_conversions_without_touches() -> None:
    paths = pd.DataFrame({"path": ["", None, "a"], "conversions": [2, 1, 1], "nulls": [0, 0, 2]})
    table = attribution(paths, models=["last_touch"]).table
    assert credits(table, "last_touch") == {"(direct)": 3.0, "a": 1.0}


def test_bad_path_summaries_name_row_and_field() -> None:
    with pytest.raises(DataError, match=r"row 2, field conversions"):
        attribution(pd.DataFrame({"path": ["a", "b"], "conversions": [1, "x"]}))
    with pytest.raises(DataError, match=r"row 1, field path: empty channel"):
        attribution(pd.DataFrame({"path": ["a > > b"], "conversions": [1]}))
    with pytest.raises(DataError, match="field conversions"):
        attribution(pd.DataFrame({"path": ["a"]}))
    with pytest.raises(DataError, match=r"row 1, field nulls"):
        attribution(pd.DataFrame({"path": ["a"], "conversions": [1], "nulls": [-1]}))


def test_bad_parameters_name_what_is_allowed() -> None:
    paths = pd.DataFrame({"path": ["a"], "conversions": [1]})
    with pytest.raises(ParameterError, match="Did you mean 'shapley'"):
        attribution(paths, models=["shaply"])
    with pytest.raises(ParameterError, match="time_decay needs touch times"):
        attribution(paths, models=["time_decay"])
    with pytest.raises(ParameterError, match="order"):
        attribution(paths, models=["markov"], order=5)
    with pytest.raises(ParameterError, match="lookback"):
        attribution(paths, lookback="7d")
    with pytest.raises(ParameterError, match="max_coalition_size"):
        attribution(paths, models=["shapley"], max_coalition_size=0)
