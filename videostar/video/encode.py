"""Write videos with PyAV: frames to H.264 mp4 (VP9 for .webm) for the toy world, test fixtures and
benchmarks; and clips cut out of a video to files of their own, for trainers that cannot read a
segment of a file (LLaMA-Factory, LLaVA)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np


def write_video(
    path: str | Path,
    frames: Iterable[np.ndarray],
    fps: float,
    crf: int = 12,
    rotation: int = 0,
    gop: int | None = None,
) -> Path:
    """Encode uint8 RGB frames (H, W, 3); ``rotation`` sets display-matrix metadata (degrees CCW)."""
    import av
    from fractions import Fraction

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = None
        for frame in frames:
            if stream is None:
                codec = "libvpx-vp9" if path.suffix.lower() == ".webm" else "libx264"
                stream = container.add_stream(codec, rate=Fraction(fps).limit_denominator(1000))
                stream.height, stream.width = frame.shape[:2]
                stream.pix_fmt = "yuv420p"
                stream.options = {"crf": str(crf), **({"g": str(gop)} if gop else {})}
                # One thread: x264 output is then byte-identical run to run (toy determinism).
                stream.codec_context.thread_count = 1
                if rotation:
                    stream.set_display_rotation(rotation)
            packet_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            container.mux(stream.encode(packet_frame))
        if stream is None:
            raise ValueError(f"{path}: no frames to write")
        container.mux(stream.encode())
    return path


def write_clip(src: str | Path, out: str | Path, segment: tuple[float, float] | None = None,
               fps: float | None = None) -> Path:
    """Re-encode the part ``segment`` (seconds; None: all) of a video file or of a frame directory
    (``fps`` needed) into its own H.264 file, for trainers that only read whole files. Frames keep
    their full rate; the display rotation is carried over as metadata. Written atomically."""
    from videostar.atomic import atomic_open

    src, out = Path(src), Path(out)
    start, end = segment if segment is not None else (0.0, float("inf"))
    if src.is_dir():
        frames, rate, rotation = _frame_dir_frames(src, fps, start, end), fps, 0
    else:
        frames, rate, rotation = _file_frames(src, start, end)
    with atomic_open(out, "wb") as handle:
        _encode(handle, frames, rate, rotation, out)
    return out


def _encode(handle, frames, fps: float, rotation: int, name: Path) -> None:
    import av
    from fractions import Fraction

    with av.open(handle, "w", format="mp4") as container:
        stream = None
        for frame in frames:
            if stream is None:
                stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000))
                stream.height, stream.width = frame.shape[0] // 2 * 2, frame.shape[1] // 2 * 2
                stream.pix_fmt = "yuv420p"
                if rotation:
                    stream.set_display_rotation(rotation)
            frame = np.ascontiguousarray(frame[: stream.height, : stream.width])
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        if stream is None:
            raise ValueError(f"{name}: the clip holds no frames")
        container.mux(stream.encode())


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

