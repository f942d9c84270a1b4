"""FineDiving annotations (``FineDiving_fine-grained_annotation.pkl``) with its trimmed frames.

The pickle maps an instance id ``(event, index)`` to ``action_type, sub-action_types, judge_scores,
dive_score, frames_labels, difficulty, steps_transit_frames, start_frame, end_frame``; frames live
in ``{frames_dir}/{event}/{index}/*.jpg``. It is loaded with the restricted unpickler. Splits come
from ``train_split.pkl`` / ``test_split.pkl`` beside it when present.

Each instance becomes three samples (one label type each): the sub-action sequence (the runs of
``frames_labels`` in order; the original Video-STaR converter used ``np.unique``, which sorts ids
and loses the order), the dive's difficulty, and its final score.
"""

from __future__ import annotations

from pathlib import Path

from videostar.data.importers.base import ImportResult
from videostar.data.importers.safe_pickle import safe_load
from videostar.data.labels import ScoreLabel, SequenceLabel
from videostar.data.manifest import Sample

DEFAULT_FPS = 25.0


def _splits(folder: Path) -> dict[tuple, str]:
    split_of = {}
    for split in ("train", "test"):
        file = folder / f"{split}_split.pkl"
        if file.exists():
            for key in safe_load(file):
                split_of[(str(key[0]), int(key[1]))] = split
    return split_of


def _sub_action_sequence(annotation: dict, table: dict) -> list[str]:
    names = annotation.get("sub-action_types") or {}
    steps: list[str] = []
    previous = None
    for label in (int(x) for x in annotation["frames_labels"]):
        if label == previous:
            continue
        previous = label
        steps.append(str(names.get(label) or table.get(label) or f"sub-action {label}"))
    return steps


def import_finediving(src: Path, video_dir: Path, skip_missing: bool = False, fps: float = DEFAULT_FPS) -> ImportResult:
    annotations = safe_load(src)
    if not isinstance(annotations, dict):
        raise ValueError(f"{src}: expected a dict keyed by (event, index)")
    table_file = src.parent / "Sub_action_Types_Table.pkl"
    table = {int(k): v for k, v in safe_load(table_file).items()} if table_file.exists() else {}
    split_of = _splits(src.parent)
    result = ImportResult()
    for key in sorted(annotations, key=lambda k: (str(k[0]), int(k[1]))):
        event, index = str(key[0]), int(key[1])
        annotation = annotations[key]
        frames = video_dir / event / str(index)
        if skip_missing and not frames.is_dir():
            result.skipped["frames not found"] += 1
            continue
        base = dict(
            video=str(frames.resolve()),
            split=split_of.get((event, index), "train"),
            meta={"fps": fps, "event": event, "index": index, "action_type": str(annotation.get("action_type", ""))},
        )
        sample_id = f"finediving_{event}_{index}"
        steps = _sub_action_sequence(annotation, table)
        result.samples.append(Sample(id=f"{sample_id}_steps", task="dive sub-action sequence",
                                     labels=[SequenceLabel(value=steps, name="sub-actions in order")], **base))
        result.samples.append(Sample(id=f"{sample_id}_difficulty", task="dive difficulty",
                                     labels=[ScoreLabel(value=float(annotation["difficulty"]), name="difficulty")], **base))
        result.samples.append(Sample(id=f"{sample_id}_score", task="dive scoring",
                                     labels=[ScoreLabel(value=float(annotation["dive_score"]), name="final score")], **base))
    return result
