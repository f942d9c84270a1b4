"""The per-batch step is a pure function: what a distributed worker would call, given the batch,
its frames, a backend and a verifier; the same inputs give the same rows, and nothing is written."""

from __future__ import annotations

import numpy as np
from helpers import ConstantBackend

from videostar.data.manifest import Sample
from videostar.engine.step import generate_rows
from videostar.engine.work import Work
from videostar.models.backend import SamplingParams
from videostar.store.records import Question
from videostar.verify.verifier import Verifier
from videostar.video.decode import Frames


def _work(answer_at_seconds: float) -> tuple[list[Work], list[Frames]]:
    sample = Sample.model_validate({"id": "s", "video": "v.mp4", "task": "moment", "segment": [10, 14],
                                    "labels": [{"type": "timestamp", "value": answer_at_seconds, "unit": "seconds"}]})
    question = Question("s/t0", "s", "template", "When does it happen?")
    frames = Frames.from_array(np.zeros((4, 8, 8, 3), np.uint8), fps=0.2)  # decoded info: a 20 s video
    return [Work(sample, "When does it happen? (the correct answer is not given)", question, k) for k in range(2)], [frames] * 2


def test_step_is_pure_and_reads_seconds_against_the_clip():
    batch, frames = _work(answer_at_seconds=2.0)  # 2 s into the 4 s clip [10, 14]: half way
    params = SamplingParams(temperature=0.0, max_new_tokens=4)
    first = generate_rows("answer", batch, frames, ConstantBackend("Final answer: 0.5"), params, Verifier())
    again = generate_rows("answer", batch, frames, ConstantBackend("Final answer: 0.5"), params, Verifier())
    assert first == again
    assert [(r.question_id, r.step, r.sample_index, r.passed) for r in first] == [("s/t0", "answer", 0, True),
                                                                                   ("s/t0", "answer", 1, True)]
    unverified = generate_rows("a0", batch, frames, ConstantBackend("Final answer: 0.5"), params, None)
    assert [r.passed for r in unverified] == [False, False] and unverified[0].verdict["labels"] == []


def test_step_reads_pixel_boxes_against_the_frames_the_model_saw():
    """A box answered in pixels of the 80x40 frames shown is the normalized box [0.25, 0.5, 0.75, 1]."""
    sample = Sample.model_validate({"id": "s", "video": "v.mp4", "task": "where",
                                    "labels": [{"type": "bbox", "value": [0.25, 0.5, 0.75, 1.0]}]})
    batch = [Work(sample, "Where is it?", Question("s/t0", "s", "template", "Where is it?"), 0)]
    frames = [Frames.from_array(np.zeros((2, 40, 80, 3), np.uint8))]
    params = SamplingParams(temperature=0.0, max_new_tokens=4)
    (row,) = generate_rows("answer", batch, frames, ConstantBackend("Final answer: [20, 20, 60, 40]"), params,
                           Verifier())
    assert row.passed and row.score == 1.0
