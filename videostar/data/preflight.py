"""Pre-flight checks before a long GPU run: durations for seconds labels, and (optionally) that
every video decodes with the run's frame sampling. Yields per sample so callers can show progress."""

from __future__ import annotations

from typing import Iterator

from videostar.data.manifest import Problem, Sample
from videostar.video.decode import VideoDecodeError, decode, probe
from videostar.video.sampling import FrameSampling


def check_sample(sample: Sample, sampling: FrameSampling | None = None) -> list[Problem]:
    """Problems with one sample's video: unknown duration for seconds labels, labels past the
    video's end, and, when ``sampling`` is given, a video that fails to decode."""
    where = f"sample {sample.id!r}"
    problems: list[Problem] = []
    if sample.needs_duration() and sample.clip_duration() is None:
        try:
            sample = sample.model_copy(update={"duration": probe(sample.video, sample.fps).duration})
        except VideoDecodeError as err:
            return [Problem(where, "video", f"cannot read the duration that seconds labels need: {err.reason}")]
    for index, label in enumerate(sample.labels):
        try:
            label.normalized(sample.clip_duration())
        except ValueError as err:
            problems.append(Problem(where, f"labels[{index}]", str(err)))
    if sampling is not None:
        try:
            decode(sample.video, sampling, segment=sample.segment, fps=sample.fps)
        except VideoDecodeError as err:
            problems.append(Problem(where, "video", f"unreadable: {err}"))
    return problems


def iter_checks(samples: list[Sample], sampling: FrameSampling | None = None) -> Iterator[list[Problem]]:
    """``check_sample`` for each sample, decoding each distinct (video, segment) only once."""
    decoded: dict[tuple, list[Problem]] = {}
    for sample in samples:
        video_key = (sample.video, sample.segment)
        if sampling is not None and video_key in decoded:
            problems = check_sample(sample, None) + decoded[video_key]
        else:
            problems = check_sample(sample, sampling)
            decoded[video_key] = [p for p in problems if p.field == "video"]
        yield problems
