"""Importers from the published formats of the paper's source datasets into manifests."""

from __future__ import annotations

from pathlib import Path

from videostar.data.importers.base import ImportResult

FORMATS = ("kinetics", "star", "finediving")


def import_dataset(fmt: str, src: str | Path, video_dir: str | Path, skip_missing: bool = False, **options) -> ImportResult:
    """Read annotations in ``fmt`` from ``src``; videos (or frame folders) are under ``video_dir``."""
    src, video_dir = Path(src), Path(video_dir)
    if not src.exists():
        raise FileNotFoundError(f"{src}: annotation file not found")
    if fmt == "kinetics":
        from videostar.data.importers.kinetics import import_kinetics

        return import_kinetics(src, video_dir, skip_missing)
    if fmt == "star":
        from videostar.data.importers.star import import_star

        return import_star(src, video_dir, skip_missing)
    if fmt == "finediving":
        from videostar.data.importers.finediving import import_finediving

        return import_finediving(src, video_dir, skip_missing, **options)
    raise ValueError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
