"""FineDiving annotations (``FineDiving_fine-grained_annotation.pkl``) with its trimmed frames.

The pickle maps an instance id ``(event, index)`` to ``action_type, sub-action_types, judge_scores,
dive_score, frames_labels, difficulty, steps_transit_frames, start_frame, end_frame``; frames live
in ``{frames_dir}/{event}/{index}/*.jpg``. It is loaded with the restricted unpickler. Splits come
from ``train_split.pkl`` / ``test_split.pkl`` beside it when present.

Each instance becomes three samples (one label type each): the sub-action sequence (the runs of
``frames_labels`` in order; the original Video-STaR converter used ``np.unique``, which sorts ids
and loses the order), the dive's difficulty, and its final score.

The release has other pickles beside it (the coarse annotation, the AQA-style score files): they
hold scores without the frame-level sub-action labels, and are refused with a message naming the
file to use instead.
"""

from __future__ import annotations

from pathlib import Path

import pickle

from videostar.data.importers.base import DatasetFormatError, ImportResult
from videostar.data.importers.safe_pickle import UnsafePickleError, safe_load
from videostar.data.labels import ScoreLabel, SequenceLabel
from videostar.data.manifest import Sample

DEFAULT_FPS = 25.0
REQUIRED_FIELDS = ("frames_labels", "difficulty", "dive_score")
_EXPECTED = ("FineDiving_fine-grained_annotation.pkl: a dict from (event, index) to a dict with "
             + ", ".join(REQUIRED_FIELDS))


def _load_annotations(src: Path) -> dict:
    """The fine-grained annotation dict, or a clear error when ``src`` is another pickle."""
    try:
        annotations = safe_load(src)
    except UnsafePickleError as err:
        raise DatasetFormatError(f"refused: {err}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError) as err:
        raise DatasetFormatError(f"{src}: not a readable pickle ({err}); expected {_EXPECTED}") from None
    if not isinstance(annotations, dict) or not annotations:
        raise DatasetFormatError(f"{src}: holds a {type(annotations).__name__}, expected {_EXPECTED} "
                                 "(train_split.pkl / test_split.pkl are the split lists beside it)")
    key, value = next(iter(annotations.items()))
    missing = [f for f in REQUIRED_FIELDS if not isinstance(value, dict) or f not in value]
    if not (isinstance(key, tuple) and len(key) == 2) or missing:
        found = sorted(map(str, value)) if isinstance(value, dict) else type(value).__name__
        raise DatasetFormatError(
            f"{src}: entry {key!r} has {found}, missing {', '.join(missing) or 'an (event, index) key'}: this looks "
            f"like the coarse or AQA annotation of the release, not the fine-grained one; expected {_EXPECTED}")
    return annotations


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
    annotations = _load_annotations(src)
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
