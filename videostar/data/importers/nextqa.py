"""NExT-QA multiple choice: ``train.csv``, ``val.csv``, ``test.csv`` of the NExT-QA release.

Columns: ``video,frame_count,width,height,question,answer,qid,type,a0,a1,a2,a3,a4`` where
``answer`` is the index (0-4) of the correct option. Videos are ``NExTVideo/<folder>/<video>.mp4``
(``map_vid_vidorID.json`` gives the folder); they are found by file name under ``video_dir``.
Each row becomes a ``choice`` label (the correct option's text, options a0..a4 in order) with the
question in ``meta.question`` and the question type (CW, CH, TN, TC, DL, DO, DC) in ``meta.type``.
Rows without an answer (an unlabeled test file) are skipped and counted.
"""

from __future__ import annotations

import csv
from pathlib import Path

from videostar.data.importers.base import DatasetFormatError, ImportResult, VideoIndex, video_or_default
from videostar.data.labels import ChoiceLabel
from videostar.data.manifest import Sample

OPTION_COLUMNS = ("a0", "a1", "a2", "a3", "a4")
REQUIRED_COLUMNS = ("video", "question", "qid", *OPTION_COLUMNS)


def import_nextqa(src: Path, video_dir: Path, skip_missing: bool = False) -> ImportResult:
    stem = src.stem.lower()
    split = "val" if "val" in stem else "test" if "test" in stem else "train"
    index = VideoIndex(video_dir)
    result = ImportResult()
    with src.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise DatasetFormatError(f"{src}: not a NExT-QA csv: missing column(s) {', '.join(missing)}")
        for row in reader:
            answer = (row.get("answer") or "").strip()
            if not answer:
                result.skipped["no answer (test split)"] += 1
                continue
            options = [row[c].strip() for c in OPTION_COLUMNS]
            if not answer.isdigit() or int(answer) >= len(options):
                raise DatasetFormatError(f"{src}:{reader.line_num}: answer must be an option index 0-4, got {answer!r}")
            if len(set(options)) != len(options) or not all(options):
                result.skipped["empty or repeated options"] += 1
                continue
            video_id = row["video"].strip()
            video = video_or_default(index, result, skip_missing, video_dir / f"{video_id}.mp4", video_id)
            if video is None:
                continue
            result.samples.append(Sample(
                id=f"nextqa_{video_id}_{row['qid'].strip()}", video=str(video.resolve()), split=split,
                task="video question answering",
                labels=[ChoiceLabel(value=options[int(answer)], options=options, name="answer")],
                meta={"question": row["question"].strip(), "type": (row.get("type") or "").strip(), "qid": row["qid"]},
            ))
    return result
