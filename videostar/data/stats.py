"""Counts and durations of a manifest: what `videostar data stats` prints."""

from __future__ import annotations

from collections import Counter

from videostar.data.manifest import Sample
from videostar.video.decode import VideoDecodeError, probe


def manifest_stats(samples: list[Sample], probe_durations: bool = True) -> dict:
    """Samples per split, task and label type; label types per task; video durations (seconds)."""
    by_task_type: dict[str, Counter] = {}
    for sample in samples:
        by_task_type.setdefault(sample.task, Counter()).update(label.type for label in sample.labels)
    stats = {
        "samples": len(samples),
        "videos": len({s.video for s in samples}),
        "splits": dict(Counter(s.split for s in samples)),
        "tasks": dict(Counter(s.task for s in samples)),
        "label_types": dict(Counter(label.type for s in samples for label in s.labels)),
        "label_types_per_task": {task: dict(c) for task, c in by_task_type.items()},
    }
    if probe_durations:
        durations, unreadable = [], 0
        for video, fps in {(s.video, s.fps) for s in samples}:
            try:
                durations.append(probe(video, fps).duration)
            except VideoDecodeError:
                unreadable += 1
        stats["duration_s"] = (
            {
                "min": round(min(durations), 3),
                "mean": round(sum(durations) / len(durations), 3),
                "max": round(max(durations), 3),
                "total": round(sum(durations), 3),
            }
            if durations
            else None
        )
        stats["unreadable_videos"] = unreadable
    return stats
