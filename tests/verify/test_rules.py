import time

import pytest

from videostar.data.labels import parse_label
from videostar.verify.verifier import Verifier, VerifierConfig, VerifyItem


def check(verifier, label, answer, duration=None, frame_size=None):
    verdict = verifier.verify([parse_label(label)], answer, duration=duration, frame_size=frame_size)
    return verdict.passed, verdict.labels[0]


RANGE = {"type": "temporal_range", "value": [0.2, 0.5]}
BOX = {"type": "bbox", "value": [0.1, 0.2, 0.5, 0.6]}
CHOICE = {"type": "choice", "value": "The clothes.", "options": ["The table.", "The clothes.", "The cup.", "The door."]}


@pytest.mark.parametrize("label, answer, duration, expected", [
    # temporal range: last pair wins, seconds with a duration, percent
    (RANGE, "It happens from 0.25 to 0.5.", None, True),
    (RANGE, "It happens from 0.6 to 0.9.", None, False),
    (RANGE, "Maybe 0.6 to 0.9, but final answer: [0.2, 0.48]", None, True),
    (RANGE, "Final answer: 0.6 to 0.9\nThough at first I thought 0.2 to 0.5", None, False),
    (RANGE, "between 2s and 5s", 10.0, True),
    (RANGE, "from 20% to 50% of the clip", None, True),
    (RANGE, "from 0.5 to 0.2", None, False),  # start must be < end
    ({"type": "temporal_range", "value": [2, 5], "unit": "seconds"}, "from 2.1 to 5 seconds", None, True),
    ({"type": "temporal_range", "value": [2, 5], "unit": "seconds"}, "from 0.2 to 0.5", 10.0, True),
    (RANGE, "It runs from 0:02 to 0:05.", 10.0, True),                       # m:ss with the duration
    (RANGE, "It runs from 0:02 to 0:05.", None, False),                      # ... and without it
    (RANGE, "The action kicks off near 2.1 s. The man then turns, and it is over by 5 s.", 10.0, True),
    (RANGE, "It starts at 20% of the video and ends at 50%.", None, True),
    (RANGE, "2s – 5s", 10.0, True),                                          # en dash
    (RANGE, "It is not between 0.2 and 0.5; it happens from 0.6 to 0.9.", None, False),
    (RANGE, "It happens from 0.6 to 0.9, not between 0.2 and 0.5.", None, False),
    ({"type": "temporal_range", "value": [62, 65], "unit": "seconds"}, "from 1:02 to 1:05", None, True),
    ({"type": "temporal_range", "value": [3600, 3720], "unit": "seconds"}, "from 1:00:00 to 1:02:00", None, True),
    # boxes: xyxy, swapped corners, pixel coordinates rejected
    (BOX, "The object is at [0.1, 0.2, 0.5, 0.6].", None, True),
    (BOX, "The object is at [0.5, 0.6, 0.1, 0.2].", None, True),
    (BOX, "x1=0.1, y1=0.2 ... box 0.6 0.7 0.9 0.95", None, False),
    (BOX, "x1=0.1, y1=0.2, x2=0.5, y2=0.6", None, True),
    (BOX, "The object is at (0.1, 0.2, 0.5, 0.6).", None, True),
    (BOX, "[12, 20, 50, 60]", None, False),                                  # pixels, frame size unknown
    (BOX, "somewhere on the left", None, False),
    # scores: any number within 10%, denominators ignored
    ({"type": "score", "value": 72, "scale": [0, 100]}, "I'd say seventy-two.", None, True),
    ({"type": "score", "value": 72, "scale": [0, 100]}, "Between 65 and 90, final answer 66", None, True),
    ({"type": "score", "value": 72, "scale": [0, 100]}, "First I thought 72, but it is 90.", None, False),  # last wins
    ({"type": "score", "value": 72, "scale": [0, 100]}, "It scores 7.2 out of 10", None, True),  # rescaled
    ({"type": "score", "value": 72, "scale": [0, 100]}, "I rate it 7.3/10.", None, True),
    ({"type": "score", "value": 7, "scale": [0, 10]}, "seven out of ten", None, True),
    ({"type": "score", "value": 7, "scale": [0, 10]}, "70%", None, True),
    ({"type": "score", "value": 72, "scale": [0, 100]}, "It scores 50 out of 100", None, False),
    ({"type": "score", "value": 10, "scale": [0, 10]}, "It scores 6.5 out of 10", None, False),
    ({"type": "score", "value": 0.8, "scale": [0, 1]}, "about 78%", None, True),
    ({"type": "score", "value": 0, "scale": [0, 5]}, "zero objects", None, True),
    # timestamps: absolute error <= 0.1 (normalized), seconds via duration
    ({"type": "timestamp", "value": 0.4}, "At 0.45 the ball drops.", None, True),
    ({"type": "timestamp", "value": 0.4}, "At 0.55 the ball drops.", None, False),
    ({"type": "timestamp", "value": 0.4}, "after 4.2 seconds", 10.0, True),
    ({"type": "timestamp", "value": 0.4}, "after 4.2 seconds", None, False),
    ({"type": "timestamp", "value": 0.4}, "at the 4 second mark", 10.0, True),
    ({"type": "timestamp", "value": 0.4}, "at 0:04", 10.0, True),
    ({"type": "timestamp", "value": 0.4}, "at 40% of the video", None, True),
    ({"type": "timestamp", "value": 0.5}, "at 1:00:00", 7200.0, True),
    ({"type": "timestamp", "value": 0.5}, "at 1:30:00", 7200.0, False),
    # classes: fuzzy words, negation, aliases, short words, final answer
    ({"type": "class", "value": "cartwheel"}, "He is doing cartwheels.", None, True),
    ({"type": "class", "value": "cartwheel"}, "It is not a cartwheel.", None, False),
    ({"type": "class", "value": "cartwheel"}, "This isn't a cartwheel at all", None, False),
    ({"type": "class", "value": "cartwheel"}, "It is not a handstand, it is a cartwheel.", None, True),
    ({"type": "class", "value": "playing ukulele"}, "Someone plays the ukulele.", None, True),
    ({"type": "class", "value": "playing ukulele"}, "Someone plays the guitar.", None, False),
    ({"type": "class", "value": "jumping jacks", "aliases": ["star jumps"]}, "She does star jumps.", None, True),
    ({"type": "class", "value": "up"}, "The square moves up.", None, True),
    ({"type": "class", "value": "up"}, "It starts up high. Final answer: down", None, False),
    ({"type": "class", "value": "left"}, "It moves to the right.", None, False),
    ({"type": "class", "value": "cartwheel"}, "", None, False),
    # classes with exclusions (Kinetics writes them in the value)
    ({"type": "class", "value": "skiing (not slalom or crosscountry)"}, "The person is skiing downhill.", None, True),
    ({"type": "class", "value": "skiing (not slalom or crosscountry)"}, "This is slalom skiing.", None, False),
    ({"type": "class", "value": "skiing (not slalom or crosscountry)"}, "Cross-country skiing.", None, False),
    ({"type": "class", "value": "skiing (not slalom or crosscountry)"}, "Skiing, but not slalom.", None, True),
    ({"type": "class", "value": "skiing", "excludes": ["slalom"]}, "a snowboard", None, False),
    # choices: by letter or by text; another option or several fail
    (CHOICE, "Final answer: (B)", None, True),
    (CHOICE, "B. The clothes", None, True),
    (CHOICE, "Answer: B", None, True),
    (CHOICE, "The person tidied up the clothes.", None, True),
    (CHOICE, "Looking at the video, the person picks up (A) first... Final answer: (B) The clothes.", None, True),
    (CHOICE, "Final answer: (A)", None, False),
    (CHOICE, "Final answer: the table", None, False),
    (CHOICE, "Final answer: (A) or (B)", None, False),
    (CHOICE, "It is not (A), it is (B).", None, True),
    (CHOICE, "A man walks in and sits down.", None, False),
])
def test_rules(verifier, label, answer, duration, expected):
    passed, verdict = check(verifier, label, answer, duration)
    assert passed is expected, verdict
    assert (verdict.reason == "") is passed  # a failure always says why


def test_boxes_in_pixels_need_the_frame_size(verifier):
    passed, verdict = check(verifier, BOX, "[64, 96, 320, 288]", frame_size=(640, 480))
    assert passed and verdict.parsed == pytest.approx([0.1, 0.2, 0.5, 0.6])
    passed, verdict = check(verifier, BOX, "[64, 96, 320, 288]")
    assert not passed and "frame size is unknown" in verdict.reason
    passed, verdict = check(verifier, BOX, "[64, 96, 3200, 288]", frame_size=(640, 480))
    assert not passed and "outside the frame" in verdict.reason


def test_excluded_class_says_why(verifier):
    passed, verdict = check(verifier, {"type": "class", "value": "skiing (not slalom or crosscountry)"},
                            "slalom skiing")
    assert not passed and verdict.score == 0 and "'slalom'" in verdict.reason


def test_text_uses_sentence_embeddings(verifier):
    label = {"type": "text", "value": "A man jumps into a swimming pool."}
    passed, verdict = check(verifier, label, "Someone dives into the water of a pool.")
    assert passed and verdict.metric == "cosine" and verdict.value >= 0.6
    passed, verdict = check(verifier, label, "A cat is sleeping on a sofa.")
    assert not passed and verdict.value < 0.6 and "cosine" in verdict.reason


def test_sample_passes_only_if_every_label_passes(verifier):
    labels = [parse_label({"type": "class", "value": "cartwheel"}), parse_label({"type": "timestamp", "value": 0.4})]
    assert verifier.verify(labels, "A cartwheel at 0.4").passed
    verdict = verifier.verify(labels, "A cartwheel at 0.9")
    assert not verdict.passed and [v.passed for v in verdict.labels] == [True, False]
    assert verdict.score == min(v.score for v in verdict.labels)


def test_per_task_thresholds(verifier):
    config = VerifierConfig(per_task={"dive scoring": {"score_rel_tol": 0.01}})
    v = Verifier(config, embedder=verifier.embedder)
    label = [parse_label({"type": "score", "value": 72})]
    assert v.verify(label, "75", task="counting").passed
    assert not v.verify(label, "75", task="dive scoring").passed
    with pytest.raises(ValueError):
        VerifierConfig(per_task={"x": {"no_such_field": 1}}).for_task("x")


@pytest.mark.parametrize("answer", [
    "x" * 1_000_000,                              # 1 MB
    "0.1, " * 3_900,                              # thousands of numbers: boxes, pairs
    "not " * 4_000 + "cartwheel",                 # deep negation run
    "(" * 10_000 + "0.2 to 0.5" + ")" * 9_000,    # nesting
    "\x00\xff\xfe" * 5_000,                        # binary junk
    "then a. " * 2_400,                           # thousands of steps
    "the cup, (A) " * 1_500,                       # thousands of option mentions
    "it starts at 1 s and ends at 2 s. " * 550,    # hundreds of start/end phrases
    "seventy " * 2_400 + "point five",            # one long run of number words
    "12:30:15 1:5:5 " * 1_300,                    # clock times and near-misses
    "x1=0.1 y1=0.2 x2=" * 1_100,                  # named corners that never complete a box
])
def test_hostile_answers_get_a_verdict_quickly(verifier, answer):
    labels = [parse_label(x) for x in ({"type": "temporal_range", "value": [0.2, 0.5]}, BOX,
                                        {"type": "class", "value": "cartwheel"}, {"type": "score", "value": 3},
                                        {"type": "sequence", "value": ["a", "b"]},
                                        {"type": "timestamp", "value": 0.5},
                                        {"type": "choice", "value": "the cup", "options": ["the cup", "cup of tea"]})]
    verifier.embedder.encode(["load the model and warm it up " * 60])  # before the clock starts
    start = time.process_time()  # CPU seconds: what the answer costs, whatever else the machine runs
    verdict = verifier.verify(labels, answer)
    assert time.process_time() - start < 2.0
    assert len(verdict.labels) == 7
    assert all(v.passed or v.reason for v in verdict.labels)


def test_judge_verifier_with_a_stub_model(embedder):
    asked = []

    def stub_model(prompts):  # boundary: stands in for a model backend's generate
        asked.extend(prompts)
        return ["Yes." if "cartwheel" in p.split("Answer:")[1] else "no" for p in prompts]

    v = Verifier(VerifierConfig(judge_types=["class"]), embedder=embedder, judge=stub_model)
    labels = [parse_label({"type": "class", "value": "cartwheel"})]
    results = v.verify_many([VerifyItem(labels, "a cartwheel"), VerifyItem(labels, "a handstand")])
    assert [r.passed for r in results] == [True, False]
    assert len(asked) == 2 and "Label (class): cartwheel" in asked[0]
    assert results[1].labels[0].metric == "judge" and "judge said" in results[1].labels[0].reason
    with pytest.raises(ValueError, match="no judge"):
        Verifier(VerifierConfig(judge_types=["class"]))
