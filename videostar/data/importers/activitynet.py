"""ActivityNet Captions (dense captioning): ``train.json``, ``val_1.json``, ``val_2.json``.

The files map a video id (``v_QOlSCBRmfWY``) to ``{"duration": 82.73, "timestamps": [[0.83, 19.86],
...], "sentences": [" A young woman is seen ...", ...]}``; videos are ``v_QOlSCBRmfWY.mp4`` (some
downloads drop the ``v_`` prefix or use .mkv/.webm: all are found). Each caption becomes two samples:

- temporal grounding: the whole video, the caption's [start, end] in seconds named by the caption;
- dense captioning: the clip [start, end] (``segment``) described by the caption as a text label.

Timestamps past the published duration are clipped to it; empty or reversed ones are skipped.
"""

from __future__ import annotations

from pathlib import Path

from videostar.data.importers.base import DatasetFormatError, ImportResult, VideoIndex, read_json, video_or_default
from videostar.data.labels import TemporalRangeLabel, TextLabel
from videostar.data.manifest import Sample


def import_activitynet_captions(src: Path, video_dir: Path, skip_missing: bool = False) -> ImportResult:
    data = read_json(src, dict, "ActivityNet Captions: {video_id: {duration, timestamps, sentences}}")
    stem = src.stem.lower()
    split = "val" if "val" in stem else "test" if "test" in stem else "train"
    index = VideoIndex(video_dir)
    result = ImportResult()
    for video_id, entry in data.items():
        if not isinstance(entry, dict) or "duration" not in entry:
            raise DatasetFormatError(f"{src}: entry {video_id!r}: expected {{duration, timestamps, sentences}}, "
                                     f"found {sorted(entry) if isinstance(entry, dict) else type(entry).__name__}")
        timestamps, sentences = entry.get("timestamps") or [], entry.get("sentences") or []
        if not timestamps or len(timestamps) != len(sentences):
            result.skipped["no captions (or timestamps and sentences differ in number)"] += 1
            continue
        short = video_id.removeprefix("v_")
        video = video_or_default(index, result, skip_missing, video_dir / f"{video_id}.mp4", video_id, short)
        if video is None:
            continue
        duration = float(entry["duration"])
        base = dict(video=str(video.resolve()), split=split, duration=duration)
        for number, ((start, end), sentence) in enumerate(zip(timestamps, sentences)):
            start, end, sentence = max(float(start), 0.0), min(float(end), duration), sentence.strip()
            if not start < end or not sentence:
                result.skipped["empty caption or start >= end"] += 1
                continue
            name = sentence.rstrip(".").strip()
            result.samples.append(Sample(
                id=f"anet_{short}_{number}_when", task="temporal grounding", **base,
                labels=[TemporalRangeLabel(value=(start, end), unit="seconds", name=name[:1].lower() + name[1:])]))
            result.samples.append(Sample(
                id=f"anet_{short}_{number}_caption", task="dense video captioning", segment=(start, end), **base,
                labels=[TextLabel(value=sentence, name="what happens in this clip")]))
    return result
