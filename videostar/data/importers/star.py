"""STAR benchmark (situated reasoning on Charades) question files: ``STAR_{train,val,test}.json``.

Each entry has ``question_id, question, video_id, start, end, answer, choices, situations`` where
``situations`` maps a Charades frame number to that keyframe's ``actions``, ``bbox`` (pixels,
x1 y1 x2 y2) and ``bbox_labels``. One entry becomes up to four samples, one per task, because a
sample passes verification only when all its labels pass:

- situated QA: the answer as a class label (question and choices kept in ``meta``);
- temporal localization: [start, end] in seconds of the full Charades video;
- action sequence: the keyframes' actions in time order (deduplicated per video segment);
- object localization: each object's box at the middle keyframe, normalized by the video's size
  (needs the video file to read its size and frame rate; skipped and counted when absent).

``action_classes.txt`` / ``object_classes.txt`` (lines like ``a101 Taking a cup``) next to the JSON
file, when present, turn ids into names.
"""

from __future__ import annotations

import json
from pathlib import Path

from videostar.data.importers.base import ImportResult
from videostar.data.labels import BBoxLabel, ClassLabel, SequenceLabel, TemporalRangeLabel
from videostar.data.manifest import Sample
from videostar.video.decode import VideoDecodeError, VideoInfo, probe


def _class_names(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    names = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, _, name = line.strip().partition(" ")
        if key and name:
            names[key] = name.strip()
    return names


def _answer_text(answer: str) -> str:
    return answer.strip().rstrip(".").strip()


def _action_sequence(situations: dict, names: dict[str, str]) -> list[str]:
    steps: list[str] = []
    for frame in sorted(situations, key=int):
        for action in situations[frame].get("actions", []):
            name = names.get(action, action)
            if not steps or steps[-1] != name:
                steps.append(name)
    return steps


def _object_boxes(situations: dict, info: VideoInfo, names: dict[str, str]) -> list[BBoxLabel]:
    frames = sorted((f for f in situations if situations[f].get("bbox")), key=int)
    if not frames:
        return []
    frame = frames[len(frames) // 2]
    situation = situations[frame]
    labels = []
    time = min(int(frame) / info.fps, info.duration)
    for box, obj in zip(situation["bbox"], situation.get("bbox_labels", [])):
        x1, y1, x2, y2 = (float(c) for c in box)
        norm = (x1 / info.width, y1 / info.height, x2 / info.width, y2 / info.height)
        norm = tuple(min(max(c, 0.0), 1.0) for c in norm)
        if norm[0] < norm[2] and norm[1] < norm[3]:
            labels.append(BBoxLabel(value=norm, time=round(time, 3), unit="seconds", name=names.get(obj, obj)))
    return labels


def import_star(src: Path, video_dir: Path, skip_missing: bool = False) -> ImportResult:
    entries = json.loads(src.read_text(encoding="utf-8"))
    if not isinstance(entries, list):
        raise ValueError(f"{src}: a STAR question file holds a JSON list of questions")
    action_names = _class_names(src.parent / "action_classes.txt")
    object_names = _class_names(src.parent / "object_classes.txt")
    split = "val" if "val" in src.stem.lower() else "test" if "test" in src.stem.lower() else "train"
    result = ImportResult()
    infos: dict[str, VideoInfo | None] = {}
    seen_segments: set[tuple] = set()
    for entry in entries:
        video = video_dir / f"{entry['video_id']}.mp4"
        if video.name not in infos:
            try:
                infos[video.name] = probe(video) if video.exists() else None
            except VideoDecodeError:
                infos[video.name] = None
        info = infos[video.name]
        if skip_missing and info is None:
            result.skipped["video missing or unreadable"] += 1
            continue
        qid = entry["question_id"]
        base = dict(video=str(video.resolve()), split=split)
        if info is not None:
            base["duration"] = info.duration
        if "answer" in entry:
            meta = {"question_id": qid, "question": entry["question"]}
            if entry.get("choices"):
                meta["choices"] = [c["choice"] for c in entry["choices"]]
            result.samples.append(
                Sample(id=f"star_{qid}_qa", task="situated question answering",
                       labels=[ClassLabel(value=_answer_text(entry["answer"]), name="answer")], meta=meta, **base)
            )
        else:
            result.skipped["no answer (test split)"] += 1
        start, end = float(entry["start"]), float(entry["end"])
        segment_key = (entry["video_id"], start, end)
        if segment_key in seen_segments:
            continue
        seen_segments.add(segment_key)
        seg_id = f"star_{entry['video_id']}_{start:.2f}_{end:.2f}".replace(".", "p")
        if 0 <= start < end:
            result.samples.append(
                Sample(id=f"{seg_id}_when", task="temporal localization", labels=[
                    TemporalRangeLabel(value=(start, end), unit="seconds", name="the situation")], **base)
            )
        situations = entry.get("situations") or {}
        steps = _action_sequence(situations, action_names)
        if steps:
            result.samples.append(
                Sample(id=f"{seg_id}_actions", task="action sequence",
                       labels=[SequenceLabel(value=steps, name="actions in order")], **base)
            )
        if info is None:
            result.skipped["object boxes: video missing (size unknown)"] += 1
            continue
        for index, box in enumerate(_object_boxes(situations, info, object_names)):
            result.samples.append(
                Sample(id=f"{seg_id}_object{index}", task="object localization", labels=[box], **base)
            )
    return result
