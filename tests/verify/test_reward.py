"""Graded scores (the RL reward): in [0, 1], 1 on the gold answer, monotone in the error for the
numeric and geometric types; and TRL's reward-function form."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from videostar.data.labels import parse_label
from videostar.prompts import gold_answer
from videostar.verify.reward import LabelReward, reward

FAST = settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])


def f6(x):
    return f"{x:.6f}"


@FAST
@given(st.floats(0, 1), st.floats(0, 0.5), st.floats(0, 0.5))
def test_timestamp_reward_is_one_on_gold_and_falls_with_the_error(verifier, gold, e1, e2):
    label = [{"type": "timestamp", "value": gold}]
    assert reward(label, f"Final answer: {f6(gold)}", verifier=verifier) == pytest.approx(1.0, abs=1e-5)
    near, far = sorted([e1, e2])
    r_near = reward(label, f"Final answer: {f6(gold + near)}", verifier=verifier)
    r_far = reward(label, f"Final answer: {f6(gold + far)}", verifier=verifier)
    assert 0.0 <= r_far <= r_near + 1e-5 <= 1.0 + 1e-5


@FAST
@given(st.floats(0.5, 100), st.floats(0, 2), st.floats(0, 2), st.sampled_from([1, -1]))
def test_score_reward_is_one_on_gold_and_falls_with_the_relative_error(verifier, gold, r1, r2, sign):
    label = [{"type": "score", "value": gold}]
    assert reward(label, f6(gold), verifier=verifier) == pytest.approx(1.0, abs=1e-5)
    near, far = sorted([r1, r2])
    if sign < 0:
        near, far = min(near, 0.99), min(far, 0.99)  # stay positive: "-x" would read as another number
    r_near = reward(label, f6(gold * (1 + sign * near)), verifier=verifier)
    r_far = reward(label, f6(gold * (1 + sign * far)), verifier=verifier)
    assert 0.0 <= r_far <= r_near + 1e-5 <= 1.0 + 1e-5


@FAST
@given(st.floats(0.2, 0.4), st.floats(0.1, 0.4), st.floats(0, 0.2), st.floats(0, 0.2), st.sampled_from([1, -1]))
def test_range_reward_is_iou_and_falls_as_the_range_moves_away(verifier, start, length, d1, d2, sign):
    label = [{"type": "temporal_range", "value": [start, start + length]}]
    assert reward(label, f"from {f6(start)} to {f6(start + length)}", verifier=verifier) == pytest.approx(1, abs=1e-4)
    near, far = sorted([d1, d2])
    r = [reward(label, f"from {f6(start + sign * d)} to {f6(start + length + sign * d)}", verifier=verifier)
         for d in (near, far)]
    assert 0.0 <= r[1] <= r[0] + 1e-4 <= 1.0 + 1e-4


@FAST
@given(st.floats(0.25, 0.45), st.floats(0.25, 0.45), st.floats(0.1, 0.3), st.floats(0, 1), st.floats(0, 1),
       st.floats(-0.2, 0.2), st.floats(-0.2, 0.2))
def test_box_reward_is_iou_and_falls_as_the_box_moves_away(verifier, x, y, size, t1, t2, dx, dy):
    gold = (x, y, x + size, y + size)
    label = [{"type": "bbox", "value": list(gold)}]

    def moved(t):
        return "[" + ", ".join(f6(c + t * d) for c, d in zip(gold, (dx, dy, dx, dy))) + "]"

    assert reward(label, moved(0), verifier=verifier) == pytest.approx(1.0, abs=1e-4)
    near, far = sorted([t1, t2])
    assert 0.0 <= reward(label, moved(far), verifier=verifier) <= reward(label, moved(near), verifier=verifier) + 1e-4


LABELS = [
    {"type": "class", "value": "playing ukulele"},
    {"type": "class", "value": "skiing (not slalom or crosscountry)"},
    {"type": "temporal_range", "value": [2, 5], "unit": "seconds"},
    {"type": "bbox", "value": [0.1, 0.2, 0.5, 0.6], "time": 0.5},
    {"type": "timestamp", "value": 0.4},
    {"type": "score", "value": 72.5, "scale": [0, 100]},
    {"type": "text", "value": "A man jumps into a swimming pool."},
    {"type": "sequence", "value": ["take off", "somersault", "entry"]},
    {"type": "choice", "value": "The cup.", "options": ["The table.", "The clothes.", "The cup."]},
]


@pytest.mark.parametrize("label", LABELS, ids=[x["type"] for x in LABELS])
def test_every_type_gives_its_gold_answer_reward_one(verifier, label):
    answer = "Let me look at the video.\nFinal answer: " + gold_answer([parse_label(label)])
    assert reward([label], answer, verifier=verifier, duration=10.0) == pytest.approx(1.0, abs=1e-4)


@settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(LABELS), st.text(max_size=200))
def test_reward_is_always_within_zero_and_one(verifier, label, answer):
    assert 0.0 <= reward([label], answer, verifier=verifier, duration=10.0) <= 1.0


def test_trl_reward_function_reads_the_labels_column(verifier):
    rows = [
        ([{"type": "timestamp", "value": 0.4}], "Final answer: 0.4", 10.0),
        ([{"type": "timestamp", "value": 0.4}], "Final answer: at 5 seconds", 10.0),  # 0.1 off
        ([{"type": "choice", "value": "b", "options": ["a", "b"]}], "(A)", None),
    ]
    func = LabelReward(verifier=verifier)
    completions = [[{"role": "assistant", "content": [{"type": "text", "text": answer}]}] for _, answer, _ in rows]
    scores = func(prompts=["q"] * 3, completions=completions, labels=[json.dumps(lab) for lab, _, _ in rows],
                  duration=[d for _, _, d in rows], trainer_state=object())
    assert scores == pytest.approx([1.0, 0.9, 0.0])
    assert func(["q"], ["Final answer: 0.4"], labels=[rows[0][0]]) == pytest.approx([1.0])  # plain text, dicts
    assert func.__name__ == "label_reward"
    with pytest.raises(ValueError, match="labels"):
        func(["q"], ["x"])
