"""Kinetics-400/600/700 annotation CSVs, as DeepMind and the CVDF mirror publish them.

Columns: ``label,youtube_id,time_start,time_end,split`` (Kinetics-400 adds ``is_cc``); the test
files have no ``label`` column: nothing to learn from, so those rows are skipped and counted. The
JSON edition (``kinetics_700_train.json``: ``{youtube_id: {"annotations": {"label", "segment"},
"subset", ...}}``) is read too.
Clips are the ten-second YouTube segments the CVDF scripts name
``{youtube_id}_{time_start:06d}_{time_end:06d}.mp4``; they may lie flat in one folder or one folder
per class (``train/abseiling/...``, the 700-2020 tarballs): both are found.

Classes such as ``skiing (not slalom or crosscountry)`` name what the clip is NOT: the label is
``skiing`` with ``excludes: ["slalom", "crosscountry"]``, so an answer must say "skiing" and must
not claim slalom (the verifier reads ``excludes``); the original class name stays in ``meta``.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from videostar.data.importers.base import DatasetFormatError, ImportResult, VideoIndex, read_json, video_or_default
from videostar.data.labels import ClassLabel
from videostar.data.manifest import Sample

REQUIRED_COLUMNS = ("youtube_id", "time_start", "time_end")
_NOT = re.compile(r"^(?P<value>.*?)\s*\(not (?P<excluded>[^)]*)\)\s*$")


def clip_filename(youtube_id: str, start: int, end: int) -> str:
    return f"{youtube_id}_{start:06d}_{end:06d}.mp4"


def class_label(name: str) -> ClassLabel:
    """``tying knot (not on a tie)`` -> value ``tying knot``, excludes ``["on a tie"]``."""
    match = _NOT.match(name)
    if not match or not match["value"]:
        return ClassLabel(value=name, name="action")
    excluded = [part.strip() for part in re.split(r"\s+or\s+|,", match["excluded"]) if part.strip()]
    return ClassLabel(value=match["value"], excludes=excluded, name="action")


def _json_rows(src: Path) -> list[dict]:
    """The JSON edition as CSV rows (``segment`` -> time_start/time_end, ``subset`` -> split)."""
    rows = []
    for youtube_id, entry in read_json(src, dict, "Kinetics JSON: {youtube_id: {annotations, subset}}").items():
        annotations = (entry.get("annotations") or {}) if isinstance(entry, dict) else None
        if annotations is None or "segment" not in annotations:
            raise DatasetFormatError(f"{src}: entry {youtube_id!r}: expected annotations with a segment")
        start, end = annotations["segment"]
        rows.append({"label": annotations.get("label", ""), "youtube_id": youtube_id, "time_start": start,
                     "time_end": end, "split": entry.get("subset", "train")})
    return rows


def _csv_rows(src: Path) -> list[dict]:
    with src.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise DatasetFormatError(f"{src}: not a Kinetics annotation CSV: missing column(s) {', '.join(missing)} "
                                     f"(found {', '.join(reader.fieldnames or [])})")
        return list(reader)


def import_kinetics(src: Path, video_dir: Path, skip_missing: bool = False) -> ImportResult:
    result = ImportResult()
    index = VideoIndex(video_dir)
    seen: set[str] = set()
    for row in _json_rows(src) if src.suffix.lower() == ".json" else _csv_rows(src):
        label = (row.get("label") or "").strip()
        if not label:
            result.skipped["no label (test split)"] += 1
            continue
        try:
            start, end = int(float(row["time_start"])), int(float(row["time_end"]))
        except ValueError:
            result.skipped["bad time_start/time_end"] += 1
            continue
        stem = clip_filename(row["youtube_id"], start, end)[:-4]
        if stem in seen:
            result.skipped["duplicate row"] += 1
            continue
        seen.add(stem)
        video = video_or_default(index, result, skip_missing, video_dir / f"{stem}.mp4", stem, row["youtube_id"])
        if video is None:
            continue
        result.samples.append(Sample(
            id=f"kinetics_{stem}", video=str(video.resolve()), task="action recognition",
            labels=[class_label(label)], split=(row.get("split") or "train").strip(),
            meta={"youtube_id": row["youtube_id"], "time_start": start, "time_end": end, "class": label},
        ))
    return result
