"""What every importer shares: its result (samples + skips by reason), its error, and finding videos.

Releases lay their videos out differently (flat, one folder per class, per split, ``.mp4`` or
``.webm``, frame folders), so importers look videos up by file stem in one index of the folder tree
instead of guessing a path.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from videostar.data.manifest import Sample
from videostar.errors import VideostarError

VIDEO_SUFFIXES = (".mp4", ".webm", ".mkv", ".avi", ".mov", ".m4v")


class DatasetFormatError(VideostarError, ValueError):
    """An annotation file is not in the release format its importer reads (the message says what differs)."""


@dataclass
class ImportResult:
    samples: list[Sample] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)  # reason -> count

    def skipped_text(self) -> str:
        return "; ".join(f"{n} {reason}" for reason, n in self.skipped.most_common()) or "nothing skipped"


class VideoIndex:
    """Video files (and, optionally, frame folders) under a folder, by stem, found in one walk."""

    def __init__(self, root: Path, frame_dirs: bool = False):
        self.root = root
        self._by_stem: dict[str, Path] = {}
        if not root.is_dir():
            return
        for folder, dirs, files in os.walk(root):
            dirs.sort()
            for name in sorted(files):
                stem, suffix = os.path.splitext(name)
                if suffix.lower() in VIDEO_SUFFIXES:
                    self._by_stem.setdefault(stem, Path(folder) / name)
            if frame_dirs and folder != str(root) and any(f.lower().endswith((".jpg", ".jpeg", ".png")) for f in files):
                self._by_stem.setdefault(os.path.basename(folder), Path(folder))

    def find(self, *stems: str) -> Path | None:
        """The first of ``stems`` found (a file, or a frame folder when indexed), else None."""
        for stem in stems:
            if stem in self._by_stem:
                return self._by_stem[stem]
        return None


def video_or_default(index: VideoIndex, result: ImportResult, skip_missing: bool, default: Path,
                     *stems: str) -> Path | None:
    """The indexed video for ``stems``; when absent, None (counted) with ``skip_missing``, else ``default``."""
    found = index.find(*stems)
    if found is not None:
        return found
    if skip_missing:
        result.skipped["video not found"] += 1
        return None
    return default


def read_json(src: Path, expected: type, what: str):
    """Parse ``src`` as JSON of the ``expected`` top-level type, naming the file when it is not."""
    try:
        data = json.loads(src.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DatasetFormatError(f"{src}:{err.lineno}: not valid JSON ({err.msg}); expected {what}") from None
    if not isinstance(data, expected):
        raise DatasetFormatError(f"{src}: expected {what}, found a JSON {type(data).__name__}")
    return data
