"""Video-grounded evaluation: the same prompts about a swapped clip tell a model that reads the
frames from one that answers by format and the common answer."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import ConstantBackend, ReplyBackend, mean_brightness_reply

from videostar.data.labels import ClassLabel
from videostar.data.manifest import Sample, load_manifest
from videostar.engine.work import Clip
from videostar.eval.evaluate import evaluate, majority_rates, swapped_clips
from videostar.video.sampling import FrameSampling

FOUR = FrameSampling(num_frames=4)
WHITE = np.full((64, 64, 3), 255, np.uint8)


@pytest.fixture
def shades(two_clips):
    """Task 'color': the black and the white clip of one video (two segments). Task 'shade': the
    black clip and two different white clips (black, white, white)."""
    manifest, video = two_clips
    samples = load_manifest(manifest)
    shade = [Sample(id=f"shade_{i}", video=str(video), task="shade", segment=segment,
                    labels=[ClassLabel(value=value, name="shade")], meta={"question": f"Which shade is clip {i}?"})
             for i, (segment, value) in enumerate((((0, 2), "black"), ((2, 4), "white"), ((2.5, 4), "white")))]
    return samples + shade


def test_a_model_reading_the_frames_is_grounded_a_blind_one_is_not(shades):
    seeing = evaluate(ReplyBackend(mean_brightness_reply), shades, FOUR)
    # color: each clip swapped for the other segment of the same file -> every answer flips
    assert seeing["tasks"]["color"] == {"n": 2, "majority": 50.0, "open": 100.0, "open_swapped": 0.0,
                                        "open_grounded": 100.0, "mc": 100.0, "mc_swapped": 0.0, "mc_grounded": 100.0}
    # shade (black, white, white) deranged: the black sample and the one shown black are wrong
    assert seeing["tasks"]["shade"] == {"n": 3, "majority": 66.67, "open": 100.0, "open_swapped": 33.33,
                                        "open_grounded": 66.67, "mc": 100.0, "mc_swapped": 33.33, "mc_grounded": 66.67}
    assert seeing["open_grounded"] == seeing["mc_grounded"] == 83.34 and seeing["majority"] == 58.34
    blind = evaluate(ReplyBackend(lambda text, frames: mean_brightness_reply(text, [WHITE])), shades, FOUR)
    assert blind["tasks"]["color"] == {"n": 2, "majority": 50.0, "open": 50.0, "open_swapped": 50.0,
                                       "open_grounded": 0.0, "mc": 50.0, "mc_swapped": 50.0, "mc_grounded": 0.0}
    assert blind["tasks"]["shade"] == {"n": 3, "majority": 66.67, "open": 66.67, "open_swapped": 66.67,
                                       "open_grounded": 0.0, "mc": 66.67, "mc_swapped": 66.67, "mc_grounded": 0.0}
    assert blind["open"] == blind["majority"]  # always the majority answer: the floor, nothing more


def test_swapping_can_be_turned_off(shades):
    result = evaluate(ReplyBackend(mean_brightness_reply), shades, FOUR, modes=("open",), swapped=False)
    assert result["tasks"]["color"] == {"n": 2, "majority": 50.0, "open": 100.0}


def _samples(task: str, clips: list[tuple[str, tuple | None]]) -> list[Sample]:
    return [Sample(id=f"{task}_{i}", video=video, task=task, segment=segment, labels=[ClassLabel(value=str(i))])
            for i, (video, segment) in enumerate(clips)]


def test_derangement_is_fixed_for_a_seed_keeps_labels_and_no_sample_keeps_its_clip():
    a = _samples("a", [(f"v{i}.mp4", None) for i in range(9)])
    # task b: v0 twice (two samples on one clip), and two segments of one file
    b = _samples("b", [("v0.mp4", None), ("v0.mp4", None), ("w.mp4", (0, 1)), ("w.mp4", (1, 2)), ("x.mp4", None)])
    samples = a + b
    first, again, other = swapped_clips(samples, seed=0), swapped_clips(samples, seed=0), swapped_clips(samples, seed=1)
    assert first == again and first != other
    assert set(first) == {s.id for s in samples}
    for sample in samples:
        swapped = first[sample.id]
        assert Clip.of(swapped, None) != Clip.of(sample, None)
        assert (swapped.labels, swapped.task, swapped.id) == (sample.labels, sample.task, sample.id)
    for task in (a, b):  # a permutation of the task's own clips: each clip shown as often as it occurs
        assert sorted(str(Clip.of(first[s.id], None)) for s in task) == sorted(str(Clip.of(s, None)) for s in task)
    # one clip holding more than half of a task's samples cannot be deranged: the task is left out
    assert swapped_clips(_samples("c", [("v.mp4", None)] * 3 + [("w.mp4", None)])) == {}


def test_majority_rates_per_task(shades):
    assert majority_rates(shades) == {"color": 50.0, "shade": 66.67}


def test_multiple_choice_of_a_choice_label_uses_its_own_options(tmp_path):
    """The toy 'color choice' task lists red, green, blue, yellow: a model that always answers (A)
    is right exactly on the red clips, in open answers and in multiple choice alike."""
    from videostar.toyworld.dataset import make_toy_dataset

    samples = load_manifest(make_toy_dataset(tmp_path, n=8, seed=5, tasks=["color choice"]))
    red = 100 * sum(s.labels[0].value == "red" for s in samples) / len(samples)
    assert 0 < red < 100  # the seed gives red and other colours
    result = evaluate(ConstantBackend("Final answer: (A)"), samples, FrameSampling(num_frames=4), swapped=False)
    row = result["tasks"]["color choice"]
    assert row["n"] == 8 and row["open"] == row["mc"] == round(red, 2)
