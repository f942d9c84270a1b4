"""Helpers that write real media files for tests (PyAV, wave)."""

from __future__ import annotations

import wave
from fractions import Fraction
from pathlib import Path

import numpy as np


def gray_frames(count: int, height: int = 48, width: int = 64, step: int = 15) -> np.ndarray:
    """Frame i is uniformly gray level i*step, so a decoded frame's mean tells its index."""
    return np.stack([np.full((height, width, 3), i * step, np.uint8) for i in range(count)])


def frame_index(frame: np.ndarray, step: int = 15) -> int:
    return int(round(float(frame.mean()) / step))


def write_vfr_video(path: Path, times: list[float], step: int = 15) -> Path:
    """Variable frame rate: frame i (gray 15*i) is shown from times[i] seconds."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.time_base = Fraction(1, 1000)
        stream.codec_context.time_base = Fraction(1, 1000)
        for i, t in enumerate(times):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * step, np.uint8), format="rgb24")
            frame.pts, frame.time_base = int(round(t * 1000)), Fraction(1, 1000)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def write_wav(path: Path, seconds: float = 0.5, rate: int = 8000) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.zeros(int(seconds * rate), np.int16).tobytes())
    return path
