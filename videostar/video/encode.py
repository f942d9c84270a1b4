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
