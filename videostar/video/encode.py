"""Write videos with PyAV: frames to H.264 mp4 (VP9 for .webm) for the toy world, test fixtures and
benchmarks; and clips cut out of a video to files of their own, for trainers that cannot read a
segment of a file (LLaMA-Factory, LLaVA)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np


_CONTAINERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm", ".avi": "avi"}


def write_video(
    path: str | Path,
    frames: Iterable[np.ndarray],
    fps: float,
    crf: int = 12,
    rotation: int = 0,
    gop: int | None = None,
) -> Path:
    """Encode uint8 RGB frames (H, W, 3) atomically; ``rotation`` sets display-matrix metadata
    (degrees CCW). Odd sizes lose their last row / column (yuv420p needs even sizes)."""
    import av
    from fractions import Fraction

    from videostar.atomic import atomic_open

    path = Path(path)
    webm = path.suffix.lower() == ".webm"
    with atomic_open(path, "wb") as handle, av.open(handle, "w", format=_CONTAINERS.get(path.suffix.lower(), "mp4")) as container:
        stream = None
        for frame in frames:
            if stream is None:
                stream = container.add_stream("libvpx-vp9" if webm else "libx264", rate=Fraction(fps).limit_denominator(1000))
                stream.height, stream.width = frame.shape[0] // 2 * 2, frame.shape[1] // 2 * 2
                stream.pix_fmt = "yuv420p"
                stream.options = {"crf": str(crf), **({"g": str(gop)} if gop else {})}
                # One thread: x264 output is then byte-identical run to run (toy determinism).
                stream.codec_context.thread_count = 1
                if rotation:
                    stream.set_display_rotation(rotation)
            frame = np.ascontiguousarray(frame[: stream.height, : stream.width])
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        if stream is None:
            raise ValueError(f"{path}: no frames to write")
        container.mux(stream.encode())
    return path


def write_clip(src: str | Path, out: str | Path, segment: tuple[float, float] | None = None,
               fps: float | None = None) -> Path:
    """Re-encode the part ``segment`` (seconds; None: all) of a video file or of a frame directory
    (``fps`` needed) into its own H.264 file, for trainers that only read whole files. Frames keep
    their full rate; the display rotation is carried over as metadata."""
    src = Path(src)
    start, end = segment if segment is not None else (0.0, float("inf"))
    if src.is_dir():
        return write_video(out, _frame_dir_frames(src, fps, start, end), fps or 1.0)
    frames, rate, rotation = _file_frames(src, start, end)
    return write_video(out, frames, rate, rotation=rotation)


def _file_frames(src: Path, start: float, end: float):
    """(frames in [start, end) as RGB arrays, frame rate, display rotation) of a video file."""
    import av

    container = av.open(str(src))
    stream = container.streams.video[0]
    rate = float(stream.average_rate or stream.guessed_rate or 25)
    first = next(container.decode(stream), None)
    rotation = int(getattr(first, "rotation", 0) or 0) if first is not None else 0
    container.seek(int(start / stream.time_base) if start > 0 else 0, stream=stream, backward=True)

    def frames():
        try:
            for frame in container.decode(stream):
                if frame.time is None or frame.time < start - 1e-6:
                    continue
                if frame.time >= end:
                    break
                yield frame.to_ndarray(format="rgb24")
        finally:
            container.close()

    return frames(), rate, rotation


def _frame_dir_frames(src: Path, fps: float | None, start: float, end: float):
    from PIL import Image

    from videostar.video.decode import _frame_files  # the frame order decoding uses

    if not fps:
        raise ValueError(f"{src}: a frame directory needs its fps")
    files = _frame_files(src)
    for index, file in enumerate(files):
        if start <= index / fps < end:
            with Image.open(file) as img:
                yield np.asarray(img.convert("RGB"))

