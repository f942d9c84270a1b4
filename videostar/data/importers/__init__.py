"""Importers from the published formats of video datasets into manifests.

Each reads one release's own annotation files as published (field names, layouts, test files
without labels), reports what it skipped and why, and refuses to return an empty result: an empty
manifest written without a word is the worst outcome of an import.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from videostar.data.importers.base import DatasetFormatError, ImportResult

# format name -> (module, function, what SRC is)
_IMPORTERS = {
    "kinetics": ("kinetics", "import_kinetics", "a Kinetics-400/600/700 annotation CSV (train.csv, validate.csv, ...)"),
    "star": ("star", "import_star", "STAR_train.json / STAR_val.json / STAR_test.json"),
    "finediving": ("finediving", "import_finediving", "FineDiving_fine-grained_annotation.pkl"),
    "charades_sta": ("charades_sta", "import_charades_sta", "charades_sta_train.txt / charades_sta_test.txt"),
    "activitynet_captions": ("activitynet", "import_activitynet_captions", "ActivityNet Captions train.json / val_1.json"),
    "ssv2": ("ssv2", "import_ssv2", "something-something-v2-train.json / -validation.json"),
    "nextqa": ("nextqa", "import_nextqa", "NExT-QA train.csv / val.csv / test.csv"),
}
FORMATS = tuple(_IMPORTERS)


def describe_formats() -> str:
    return "; ".join(f"{name}: {what}" for name, (_, _, what) in _IMPORTERS.items())


def import_dataset(fmt: str, src: str | Path, video_dir: str | Path, skip_missing: bool = False, **options) -> ImportResult:
    """Read annotations in ``fmt`` from ``src``; videos (or frame folders) are under ``video_dir``.

    Raises ``DatasetFormatError`` for an unknown format, a missing or malformed file, and when no
    sample at all came out (the message lists what was skipped and why).
    """
    if fmt not in _IMPORTERS:
        raise DatasetFormatError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    src, video_dir = Path(src), Path(video_dir)
    if not src.exists():
        raise DatasetFormatError(f"{src}: annotation file not found (expected {_IMPORTERS[fmt][2]})")
    module, function, _ = _IMPORTERS[fmt]
    importer = getattr(importlib.import_module(f"videostar.data.importers.{module}"), function)
    result: ImportResult = importer(src, video_dir, skip_missing, **options)
    if not result.samples:
        hint = " (are the videos under --video-dir?)" if skip_missing else ""
        raise DatasetFormatError(f"{src}: no samples imported; skipped: {result.skipped_text()}{hint}")
    return result
