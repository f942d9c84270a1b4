"""Rewards: every label type gives a graded reward from the verifiers; weights and the format reward."""

import pytest

from videostar.data.labels import parse_labels
from videostar.rl.config import RewardSettings
from videostar.rl.rewards import VerifiedReward, format_reward, repeated_share, score_completions, step_metrics
from videostar.verify.verifier import Verifier

# (label, an answer that matches it, an answer that is wrong)
CASES = {
    "class": ({"type": "class", "value": "cartwheel"}, "Final answer: a cartwheel", "Final answer: a handstand"),
    "temporal_range": ({"type": "temporal_range", "value": [0.2, 0.5]}, "Final answer: from 0.2 to 0.5",
                       "Final answer: from 0.7 to 0.9"),
    "bbox": ({"type": "bbox", "value": [0.1, 0.1, 0.5, 0.5]}, "Final answer: [0.1, 0.1, 0.5, 0.5]",
             "Final answer: [0.6, 0.6, 0.9, 0.9]"),
    "timestamp": ({"type": "timestamp", "value": 0.4}, "Final answer: 0.4", "Final answer: 0.9"),
    "score": ({"type": "score", "value": 72.5, "scale": [0, 100]}, "Final answer: 72.5", "Final answer: 20"),
    "text": ({"type": "text", "value": "A man jumps into the pool."}, "Final answer: A man jumps into a pool.",
             "Final answer: Two cars race on a track at night."),
    "sequence": ({"type": "sequence", "value": ["take off", "somersault", "entry into the water"]},
                 "He takes off. Then a somersault. Finally the entry into the water.",
                 "The stock market closed higher today."),
    "choice": ({"type": "choice", "value": "a dog", "options": ["a cat", "a dog"]}, "Final answer: (B) a dog",
               "Final answer: (A) a cat"),
}


@pytest.fixture(scope="module")
def verifier():
    return Verifier()


_MARKS = {"text": [pytest.mark.slow], "sequence": [pytest.mark.slow]}  # they load the sentence-embedding model


@pytest.mark.parametrize("kind", [pytest.param(k, marks=_MARKS.get(k, [])) for k in CASES])
def test_every_label_type_gives_a_higher_reward_to_the_matching_answer(verifier, kind):
    label, right, wrong = CASES[kind]
    labels = parse_labels([label])
    good, bad = score_completions(verifier, [labels, labels], [right, wrong], RewardSettings())
    assert good.passed and not bad.passed
    assert 0.0 <= bad.reward < good.reward <= 1.0
    assert good.labels[0]["type"] == kind and good.labels[0]["passed"]


def test_label_weights_combine_scores_and_pass_fail_mode_uses_verdicts(verifier):
    labels = parse_labels([{"type": "class", "value": "cartwheel"}, {"type": "timestamp", "value": 0.4}])
    answer = "A cartwheel at 0.9."  # class passes (score 1), timestamp fails
    graded = score_completions(verifier, [labels], [answer], RewardSettings(weights={"class": 3.0}))[0]
    timestamp_score = graded.labels[1]["score"]
    assert graded.labels[0]["score"] == 1.0 and timestamp_score < 1.0
    assert graded.reward == pytest.approx((3 * 1.0 + timestamp_score) / 4)
    binary = score_completions(verifier, [labels], [answer], RewardSettings(graded=False))[0]
    assert binary.reward == pytest.approx(0.5) and not binary.passed


def test_format_reward_wants_a_final_answer_line_and_no_loop():
    assert format_reward("I see red.\nFinal answer: red") == 1.0
    assert format_reward("I see red.") == 0.5
    looping = "the red object moves " * 10 + "\nFinal answer: red"
    assert repeated_share(looping) > 0.5 and format_reward(looping) == 0.5
    assert format_reward("Final answer:   ") == 0.5  # the line must carry an answer


def test_format_weight_adds_to_the_label_reward(verifier):
    labels = parse_labels([{"type": "class", "value": "red"}])
    plain, formatted = score_completions(verifier, [labels, labels], ["red", "It is red.\nFinal answer: red"],
                                         RewardSettings(format_weight=0.5))
    assert plain.label_reward == formatted.label_reward == 1.0
    assert plain.reward == pytest.approx(1.0 + 0.5 * 0.5) and formatted.reward == pytest.approx(1.5)


def test_settings_refuse_unknown_label_types():
    with pytest.raises(ValueError, match="unknown label type"):
        RewardSettings(weights={"colour": 1.0})


def test_trl_reward_function_logs_metrics_per_label_type(verifier):
    from videostar.data.manifest import Sample

    sample = Sample(id="s1", video="v.mp4", task="t", labels=parse_labels([{"type": "class", "value": "red"}]))

    class FakeClips:  # the frames are not needed to score text
        samples = {"s1": sample}

        def duration(self, sample_id):
            return 2.0

    logged = {}
    reward = VerifiedReward(verifier, RewardSettings(), FakeClips())
    values = reward(prompts=[[{"role": "user", "content": "q"}]] * 2,
                    completions=[[{"role": "assistant", "content": "Final answer: red"}],
                                 [{"role": "assistant", "content": "Final answer: blue"}]],
                    completion_ids=[[1, 2], [3]], sample_id=["s1", "s1"], log_metric=logged.__setitem__)
    assert values[0] == 1.0 and values[1] < 1.0
    assert logged["pass_rate"] == 0.5 and logged["reward/class"] == pytest.approx(sum(values) / 2)
    assert "reward/format" not in logged  # the format reward is off
    assert step_metrics([]) == {"pass_rate": 0.0, "reward/format": 0.0}
