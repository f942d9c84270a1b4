"""Charades-STA sentence grounding: ``charades_sta_{train,test}.txt``, as released with TALL.

Each line is ``VIDEO_ID START END##sentence`` (seconds), e.g.
``AO8RW 0.0 6.9##a person is putting a book on a shelf.``; videos are Charades' ``AO8RW.mp4``.
One line becomes one sample: the whole video, and the sentence's [start, end] in seconds as a
temporal range named by the sentence ("Find the part of the video where a person is putting a book
on a shelf"). Some published ends run past the video's end: when the video is found they are
clipped to its length (counted), so the label stays valid.
"""

from __future__ import annotations

from pathlib import Path

from videostar.data.importers.base import DatasetFormatError, ImportResult, VideoIndex, video_or_default
from videostar.data.labels import TemporalRangeLabel
from videostar.data.manifest import Sample
from videostar.video.decode import VideoDecodeError, probe


def parse_line(line: str) -> tuple[str, float, float, str]:
    """``AO8RW 0.0 6.9##a person ...`` -> (video id, start, end, sentence); ValueError if malformed."""
    head, sep, sentence = line.partition("##")
    video_id, start, end = head.split()
    if not sep or not sentence.strip():
        raise ValueError("no '##sentence'")
    return video_id, float(start), float(end), sentence.strip().rstrip(".").strip()


def import_charades_sta(src: Path, video_dir: Path, skip_missing: bool = False) -> ImportResult:
    split = "test" if "test" in src.stem.lower() else "train"
    index = VideoIndex(video_dir)
    durations: dict[str, float | None] = {}
    result = ImportResult()
    for number, line in enumerate(src.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            video_id, start, end, sentence = parse_line(line)
        except ValueError:
            raise DatasetFormatError(f"{src}:{number}: expected 'VIDEO_ID START END##sentence', got {line[:80]!r}") from None
        video = video_or_default(index, result, skip_missing, video_dir / f"{video_id}.mp4", video_id)
        if video is None:
            continue
        if video_id not in durations:
            try:
                durations[video_id] = probe(video).duration if video.exists() else None
            except VideoDecodeError:
                durations[video_id] = None
        duration = durations[video_id]
        if duration is not None and end > duration:
            end = duration
            result.skipped["end clipped to the video's length (kept)"] += 1
        if not 0 <= start < end:
            result.skipped["start >= end"] += 1
            continue
        result.samples.append(Sample(
            id=f"charades_sta_{video_id}_{number}", video=str(video.resolve()), task="temporal grounding", split=split,
            labels=[TemporalRangeLabel(value=(start, end), unit="seconds", name=sentence)],
            meta={"sentence": sentence}, **({"duration": duration} if duration else {})))
    return result
