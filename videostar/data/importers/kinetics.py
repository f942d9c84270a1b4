"""Kinetics-400/600/700 annotation CSVs (columns: label, youtube_id, time_start, time_end, split).

Clips are the ten-second YouTube segments, named ``{youtube_id}_{time_start:06d}_{time_end:06d}.mp4``
by the official download scripts (CVDF). The test split has no ``label`` column: nothing to learn
from, so those rows are skipped and counted.
"""

from __future__ import annotations

import csv
from pathlib import Path

from videostar.data.importers.base import ImportResult
from videostar.data.labels import ClassLabel
from videostar.data.manifest import Sample

REQUIRED_COLUMNS = ("youtube_id", "time_start", "time_end")


def clip_filename(youtube_id: str, start: int, end: int) -> str:
    return f"{youtube_id}_{start:06d}_{end:06d}.mp4"


def import_kinetics(src: Path, video_dir: Path, skip_missing: bool = False) -> ImportResult:
    result = ImportResult()
    with src.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{src}: not a Kinetics annotation CSV: missing column(s) {', '.join(missing)}")
        for row in reader:
            label = (row.get("label") or "").strip()
            if not label:
                result.skipped["no label (test split)"] += 1
                continue
            start, end = int(float(row["time_start"])), int(float(row["time_end"]))
            video = video_dir / clip_filename(row["youtube_id"], start, end)
            if skip_missing and not video.exists():
                result.skipped["video not downloaded"] += 1
                continue
            result.samples.append(
                Sample(
                    id=f"kinetics_{row['youtube_id']}_{start:06d}_{end:06d}",
                    video=str(video.resolve()),
                    task="action recognition",
                    labels=[ClassLabel(value=label, name="action")],
                    split=(row.get("split") or "train").strip(),
                    meta={"youtube_id": row["youtube_id"], "time_start": start, "time_end": end},
                )
            )
    return result
