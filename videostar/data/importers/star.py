"""STAR benchmark (situated reasoning on Charades) question files: ``STAR_{train,val,test}.json``.

Each entry has ``question_id, question, video_id, start, end, answer, question_program, choices,
situations``; ``choices`` lists ``{choice_id, choice, choice_program}``; ``situations`` maps a
Charades frame number ("000199") to that keyframe's ``actions``, ``bbox`` (pixels, x1 y1 x2 y2, of
the displayed frame) and ``bbox_labels``. The test file has no ``answer``. One entry becomes up to
four samples, one per task, because a sample passes verification only when all its labels pass:

- situated QA on the clip [start, end] (``segment``): the answer as a ``choice`` label, its options
  in the file's order; the question in ``meta.question``;
- temporal localization: [start, end] in seconds of the whole video, named by what happens in it;
- action sequence on the clip: each action once per stretch of keyframes that show it, ordered by
  when that stretch starts (overlapping actions keep their start order instead of alternating);
- object localization: each object's box at the middle keyframe, normalized by the DISPLAYED
  frame size (rotation applied, as decoding does); needs the video file. Null boxes are skipped
  and counted.

``action_classes.txt`` / ``object_classes.txt`` (lines like ``a101 Taking a cup``) beside the JSON
file, when present, turn ids into names.
"""

from __future__ import annotations

from pathlib import Path

from videostar.data.importers.base import DatasetFormatError, ImportResult, VideoIndex, read_json
from videostar.data.labels import BBoxLabel, ChoiceLabel, SequenceLabel, TemporalRangeLabel
from videostar.data.manifest import Sample
from videostar.video.decode import VideoDecodeError, decode, probe
from videostar.video.sampling import FrameSampling

REQUIRED_KEYS = ("question_id", "question", "video_id", "start", "end")


def _class_names(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    names = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, _, name = line.strip().partition(" ")
        if key and name:
            names[key] = name.strip()
    return names


def _text(answer: str) -> str:
    return str(answer).strip().rstrip(".").strip()


def action_sequence(situations: dict, names: dict[str, str]) -> list[str]:
    """Actions in order of their start: one entry per run of consecutive keyframes showing it."""
    frames = sorted(situations, key=int)
    runs: list[tuple[int, int, str]] = []  # (start keyframe position, first seen order, action)
    active: set[str] = set()
    for position, frame in enumerate(frames):
        actions = list(dict.fromkeys(situations[frame].get("actions") or []))
        for order, action in enumerate(actions):
            if action not in active:
                runs.append((position, order, action))
        active = set(actions)
    return [names.get(action, action) for _, _, action in sorted(runs)]


def _segment_name(steps: list[str]) -> str:
    if not steps:
        return "the situation the question asks about happens"
    phrases = [s[:1].lower() + s[1:] for s in dict.fromkeys(steps)]
    return "the person is " + " and ".join(phrases)


def _displayed_size(video: Path) -> tuple[int, int]:
    """(width, height) of frames as shown: one decoded frame, since decoding applies the rotation."""
    array = decode(video, FrameSampling(num_frames=1)).array
    return array.shape[2], array.shape[1]


def _object_boxes(situations: dict, fps: float, duration: float, size: tuple[int, int],
                  names: dict[str, str], result: ImportResult) -> list[BBoxLabel]:
    frames = sorted((f for f in situations if situations[f].get("bbox")), key=int)
    if not frames:
        return []
    frame = frames[len(frames) // 2]
    situation = situations[frame]
    width, height = size
    time = round(min(int(frame) / fps, duration), 3)
    labels = []
    for box, obj in zip(situation["bbox"], situation.get("bbox_labels") or []):
        if box is None or len(box) != 4 or any(c is None for c in box):
            result.skipped["object boxes: null box"] += 1
            continue
        x1, y1, x2, y2 = (float(c) for c in box)
        norm = tuple(min(max(c, 0.0), 1.0) for c in (x1 / width, y1 / height, x2 / width, y2 / height))
        if norm[0] < norm[2] and norm[1] < norm[3]:
            labels.append(BBoxLabel(value=norm, time=time, unit="seconds", name=f"the {names.get(obj, obj)}"))
        else:
            result.skipped["object boxes: empty box"] += 1
    return labels


def _qa_label(entry: dict, result: ImportResult) -> ChoiceLabel | None:
    options = [_text(c["choice"]) for c in entry.get("choices") or []]
    answer = _text(entry["answer"])
    if answer not in options or len(set(options)) != len(options) or len(options) < 2:
        result.skipped["QA: answer not exactly one of the choices"] += 1
        return None
    return ChoiceLabel(value=answer, options=options, name="answer")


def import_star(src: Path, video_dir: Path, skip_missing: bool = False) -> ImportResult:
    entries = read_json(src, list, "a STAR question file (a JSON list of questions)")
    if entries and (not isinstance(entries[0], dict) or any(k not in entries[0] for k in REQUIRED_KEYS)):
        found = sorted(entries[0]) if isinstance(entries[0], dict) else type(entries[0]).__name__
        raise DatasetFormatError(f"{src}: not a STAR question file: entries need {', '.join(REQUIRED_KEYS)}; "
                                 f"the first has {found}")
    action_names = _class_names(src.parent / "action_classes.txt")
    object_names = _class_names(src.parent / "object_classes.txt")
    stem = src.stem.lower()
    split = "val" if "val" in stem else "test" if "test" in stem else "train"
    index = VideoIndex(video_dir)
    result = ImportResult()
    probed: dict[str, tuple | None] = {}
    seen_segments: set[tuple] = set()
    for entry in entries:
        video_id = entry["video_id"]
        if video_id not in probed:
            found = index.find(video_id)
            try:
                probed[video_id] = (found, probe(found), _displayed_size(found)) if found else None
            except VideoDecodeError:
                probed[video_id] = None
        if probed[video_id] is None and skip_missing:
            result.skipped["video missing or unreadable"] += 1
            continue
        video, info, size = probed[video_id] or (video_dir / f"{video_id}.mp4", None, None)
        base = dict(video=str(video.resolve()), split=split)
        start, end = float(entry["start"]), float(entry["end"])
        if info is not None:
            base["duration"] = info.duration
            end = min(end, info.duration)
        if not 0 <= start < end:
            result.skipped["bad segment (start >= end)"] += 1
            continue
        qid = entry["question_id"]
        situations = entry.get("situations") or {}
        steps = action_sequence(situations, action_names)
        if "answer" not in entry:
            result.skipped["QA: no answer (test split)"] += 1
        elif (label := _qa_label(entry, result)) is not None:
            result.samples.append(Sample(
                id=f"star_{qid}_qa", task="situated question answering", labels=[label], segment=(start, end),
                meta={"question_id": qid, "question": entry["question"]}, **base))
        segment_key = (video_id, start, end)
        if segment_key in seen_segments:
            continue
        seen_segments.add(segment_key)
        seg_id = f"star_{video_id}_{start:.2f}_{end:.2f}".replace(".", "p")
        result.samples.append(Sample(id=f"{seg_id}_when", task="temporal localization", labels=[
            TemporalRangeLabel(value=(start, end), unit="seconds", name=_segment_name(steps))], **base))
        if steps:
            result.samples.append(Sample(id=f"{seg_id}_actions", task="action sequence", segment=(start, end),
                                         labels=[SequenceLabel(value=steps, name="actions in order")], **base))
        if info is None:
            result.skipped["object boxes: video missing (size unknown)"] += 1
            continue
        boxes = _object_boxes(situations, info.fps, info.duration, size, object_names, result)
        for number, box in enumerate(boxes):
            result.samples.append(Sample(id=f"{seg_id}_object{number}", task="object localization",
                                         labels=[box], **base))
    return result
