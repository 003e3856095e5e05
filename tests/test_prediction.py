"""Next-step prediction against a plain-Python Markov model with the same split and back-off."""

from __future__ import annotations

import pytest
from oracles import events as canonical
from oracles.prediction import oracle, random_log

import journeylib as jl
from journeylib.analyses.prediction import predict_next


@pytest.mark.parametrize(("seed", "order"), [(0, 1), (1, 2), (2, 3)])
def test_predictions_and_accuracy_equal_the_oracle(seed: int, order: int) -> None:
    frame = random_log(seed)
    predict, test = oracle(frame, order, 0.25, 3)
    history = ["a", "b", "c"][-order:]
    result = predict_next(canonical(frame), history, order=order, holdout=0.25, min_count=3, top=10)
    expected = predict(tuple(history))[:10]
    assert result.table.next_event.tolist() == [e for e, _ in expected]
    assert result.table.probability.tolist() == pytest.approx([p for _, p in expected])
    baseline = [e for e, _ in predict(())]
    top1 = sum(nxt in [e for e, _ in predict(c)][:1] for c, nxt in test) / len(test)
    top3 = sum(nxt in [e for e, _ in predict(c)][:3] for c, nxt in test) / len(test)
    base3 = sum(nxt in baseline[:3] for _, nxt in test) / len(test)
    evaluation = result.extras["evaluation"].set_index("model")
    model = evaluation.loc[f"Markov order {order}"]
    assert model.test_transitions == len(test)
    assert (model.top1, model.top3) == pytest.approx((top1, top3))
    assert evaluation.loc["frequency baseline"].top3 == pytest.approx(base3)


def test_structure_beats_the_baseline_and_a_user_history_is_their_latest_events() -> None:
    frame = random_log(5)
    ev = canonical(frame)
    result = predict_next(ev, ["a"], order=1, min_count=1)
    assert result.table.next_event.iloc[0] == "b"  # planted: b follows a 60% of the time
    evaluation = result.extras["evaluation"].set_index("model")
    assert evaluation.top1.iloc[0] > evaluation.loc["frequency baseline"].top1
    person = (
        frame[frame.user_id == "u3"].sort_values(["event_time", "event_id"]).event_name.tolist()
    )
    latest = [n for i, n in enumerate(person) if i == 0 or person[i - 1] != n][-2:]
    mine = predict_next(ev, user="u3", order=2, min_count=1)
    assert mine.params["history"] == latest
    every = predict_next(ev, order=1, min_count=1, top=2)
    assert set(every.table.context) == {"a", "b", "c", "d"}
    assert "<svg" in every.chart_svg()


def test_bad_parameters() -> None:
    ev = canonical(random_log(0))
    with pytest.raises(jl.ParameterError, match="order"):
        predict_next(ev, ["a"], order=5)
    with pytest.raises(jl.ParameterError, match="not both"):
        predict_next(ev, ["a"], user="u1")
    with pytest.raises(jl.ParameterError, match="No events"):
        predict_next(ev, user="nobody")


def test_prediction_over_stages_equals_the_oracle_on_renamed_events() -> None:
    frame = random_log(3)
    stages = jl.Stages({"early": ["a", "b"], "late": ["c"]})  # d belongs to no stage
    renamed = frame[frame.event_name != "d"].assign(
        event_name=lambda f: f.event_name.map({"a": "early", "b": "early", "c": "late"})
    )
    predict, _ = oracle(renamed, order=2, holdout=0.2, min_count=1)
    for history in (["early"], ["late"], ["early", "late"], ["late", "early"]):
        result = predict_next(
            canonical(frame), history, order=2, min_count=1, holdout=0.2, stages=stages
        )
        expected = predict(tuple(history))[:5]
        assert result.table.next_event.tolist() == [e for e, _ in expected]
        assert result.table.probability.tolist() == pytest.approx([p for _, p in expected])
    assert result.params["stages"] == {"early": ["a", "b"], "late": ["c"]}
