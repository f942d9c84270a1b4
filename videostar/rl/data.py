"""GRPO's prompts: one per labeled sample, with the clip's frames decoded once and cached.

A prompt row is what TRL's dataloader carries: the chat ``prompt`` and the ``sample_id``. Everything
else a rollout needs (the frames, the labels, the clip's duration) is looked up by id in ``Clips``,
so video arrays never travel through Arrow.
"""

from __future__ import annotations

from pathlib import Path

from videostar.data.manifest import Sample
from videostar.prompts import Prompts
from videostar.star.questions import template_questions
from videostar.video.cache import FrameCache
from videostar.video.decode import Frames
from videostar.video.sampling import FrameSampling


def prompt_rows(samples: list[Sample], prompts: Prompts, seed: int = 0) -> list[dict]:
    """One chat prompt per sample: its dataset question (else its first template question) in the
    step-by-step answer prompt, the same wording Video-STaR's answer generation uses."""
    rows = []
    for sample in samples:
        question = template_questions(sample, per_sample=1, seed=seed)[0].text
        rows.append({"prompt": [{"role": "user", "content": prompts.answer.format(question=question)}],
                     "sample_id": sample.id})
    return rows


class Clips:
    """Samples by id, and their frames under the run's one ``FrameSampling`` (cached on disk)."""

    def __init__(self, samples: list[Sample], sampling: FrameSampling, cache_dir: str | Path,
                 max_bytes: int = 2 * 1024**3):
        self.samples = {s.id: s for s in samples}
        self.sampling = sampling
        self._cache = FrameCache(cache_dir, max_bytes=max_bytes)
        self._durations: dict[str, float] = {}

    def frames(self, sample_id: str) -> Frames:
        sample = self.samples[sample_id]
        frames = self._cache.load(sample.video, self.sampling, sample.segment, fps=sample.fps)
        self._durations[sample_id] = frames.info.duration
        return frames

    def duration(self, sample_id: str) -> float | None:
        """Seconds of the clip (lets answers in seconds match normalized labels)."""
        return self.samples[sample_id].clip_duration() or self._durations.get(sample_id)
