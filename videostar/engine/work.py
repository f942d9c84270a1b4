"""Work items, the clip each one needs, and batches that decode every clip once.

The unit of decoding is the CLIP, not the video file: two segments of one file, or one file under
two frame samplings, are different clips with different frames. A clip that cannot be decoded
(missing, corrupt, too slow) is reported to ``on_skip`` with its reason and its work is left out;
the batch goes on with the rest.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

from videostar.data.manifest import Sample
from videostar.store.records import Question
from videostar.video.decode import Frames, VideoDecodeError
from videostar.video.sampling import FrameSampling


@dataclass(frozen=True)
class Clip:
    """Everything that changes the frames a model sees: the video, the segment (seconds), the frame
    rate of a frame directory, and the frame sampling."""

    video: str
    segment: tuple[float, float] | None
    fps: float | None
    sampling: FrameSampling

    @classmethod
    def of(cls, sample: Sample, sampling: FrameSampling) -> "Clip":
        return cls(sample.video, tuple(sample.segment) if sample.segment else None, sample.fps, sampling)

    def sort_key(self) -> tuple:
        return self.video, self.segment or (-1.0, -1.0), self.fps or 0.0, self.sampling.key()


@dataclass(frozen=True)
class Work:
    """One request: ``prompt`` about ``sample``'s clip; ``question`` and ``index`` (which of several
    draws) identify answer-like work in the ledger; question-asking work has no question."""

    sample: Sample
    prompt: str
    question: Question | None = None
    index: int = 0

    @property
    def key(self) -> str:
        return f"{self.question.id if self.question else self.sample.id}:{self.index}"


def batch_seed(batch: Sequence[Work]) -> int:
    """A per-batch seed that depends on what is in the batch, not on when it ran (resume-stable)."""
    return zlib.crc32("|".join(w.key for w in batch).encode()) % 100_000


def clip_duration(sample: Sample, frames: Frames) -> float | None:
    """Seconds of the clip the labels refer to: the segment's length for a segment, else the
    sample's recorded duration, else the decoded video's."""
    if sample.clip_duration() is not None:
        return sample.clip_duration()
    return frames.info.duration


class ClipFrames:
    """Frames per clip, decoded at most once per process (and cached on disk when given a directory);
    a clip that failed is not tried again."""

    def __init__(self, cache_dir: str | Path | None = None, max_bytes: int = 4 * 1024**3):
        from videostar.video.cache import FrameCache

        self.cache = FrameCache(cache_dir, max_bytes=max_bytes) if cache_dir is not None else None
        self.failed: dict[Clip, VideoDecodeError] = {}

    def __call__(self, clip: Clip) -> Frames:
        from videostar.video.decode import decode

        if clip in self.failed:
            raise self.failed[clip]
        try:
            if self.cache is not None:
                return self.cache.load(clip.video, clip.sampling, segment=clip.segment, fps=clip.fps)
            return decode(clip.video, clip.sampling, segment=clip.segment, fps=clip.fps)
        except VideoDecodeError as err:
            self.failed[clip] = err
            raise


Skip = Callable[[list[Sample], VideoDecodeError], None]


def plan(work: Sequence[Work], sampling: FrameSampling, batch_size: int) -> list[list[Work]]:
    """Work sorted by clip (a clip's items travel together) and cut into batches that span many clips;
    decoding them is separate (``decode_batch``) so a pool or a cluster can do it elsewhere."""
    ordered = sorted(work, key=lambda w: (Clip.of(w.sample, sampling).sort_key(), w.key))
    return [ordered[start:start + batch_size] for start in range(0, len(ordered), batch_size)]


Decoded = tuple[list[Work], list[Frames], list[tuple[list[Sample], VideoDecodeError]]]


def decode_batch(batch: Sequence[Work], sampling: FrameSampling, load: Callable[[Clip], Frames]) -> Decoded:
    """``(kept, frames, skips)``: one Frames per kept item, each clip decoded once; the items of a clip
    that cannot be decoded are left out and listed in ``skips`` with the reason."""
    decoded: dict[Clip, Frames | None] = {}
    kept, frames, skips = [], [], []
    for item in batch:
        clip = Clip.of(item.sample, sampling)
        if clip not in decoded:
            try:
                decoded[clip] = load(clip)
            except VideoDecodeError as err:
                decoded[clip] = None
                skips.append((_unique([w.sample for w in batch if Clip.of(w.sample, sampling) == clip]), err))
        if decoded[clip] is not None:
            kept.append(item)
            frames.append(decoded[clip])
    return kept, frames, skips


def batches(work: Sequence[Work], sampling: FrameSampling, load: Callable[[Clip], Frames], batch_size: int,
            on_skip: Skip) -> Iterator[tuple[list[Work], list[Frames]]]:
    """``(batch, frames)`` with one Frames per work item, decoded in this process as they are needed."""
    for chunk in plan(work, sampling, batch_size):
        yield from reported(decode_batch(chunk, sampling, load), on_skip)


def reported(decoded: Decoded, on_skip: Skip) -> Iterator[tuple[list[Work], list[Frames]]]:
    """The decoded batch (if anything in it was readable), its skipped clips passed to ``on_skip``."""
    kept, frames, skips = decoded
    for samples, err in skips:
        on_skip(samples, err)
    if kept:
        yield kept, frames


def _unique(samples: list[Sample]) -> list[Sample]:
    return list({s.id: s for s in samples}.values())
