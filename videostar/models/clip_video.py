"""How a vLLM-served or in-process vLLM model is shown a request's sampled frames: as a short video.

The frames become a video of exactly those frames, in order, played at their effective rate
(frames per second of clip time), so a model's video processor sees the frames the run sampled and
can tell how far apart in time they are: Qwen2.5-VL derives its temporal position step from that
rate, Qwen3-VL writes "<t seconds>" before each frame from ``index / fps``. Times are relative to
the first sampled frame (frame i is at i / rate), the only clock an mp4 of the frames can carry; the
in-process vLLM backend uses the same description so both paths show a model the same video.
"""

from __future__ import annotations

import io
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from videostar.video.decode import Frames

# x264 quality: 12 keeps a decoded frame within a few gray levels of the original (tested).
MP4_CRF = 12


def clip_rate(frames: "Frames") -> Fraction:
    """Frames per second of clip time between the first and the last sampled frame.

    A single frame (or frames sharing one time) has no spacing: the source video's rate is used.
    Rounded to a fraction with denominator <= 1001, the precision an mp4 stream rate keeps."""
    times = np.asarray(frames.times, dtype=np.float64)
    span = float(times[-1] - times[0]) if len(times) > 1 else 0.0
    rate = (len(times) - 1) / span if span > 0 else (frames.info.fps or 1.0)
    return Fraction(rate).limit_denominator(1001)


def encode_mp4(frames: "Frames") -> bytes:
    """An H.264 mp4 (in memory) of exactly ``frames.array``, one video frame each, at ``clip_rate``.

    yuv420p, the pixel format every decoder reads, needs even sizes: an odd height or width gets
    one more row or column copied from the edge. No B-frames, so presentation order is coding order
    and every reader counts the same frames."""
    import av

    array = frames.array
    pad = ((0, 0), (0, array.shape[1] % 2), (0, array.shape[2] % 2), (0, 0))
    if any(p[1] for p in pad):
        array = np.pad(array, pad, mode="edge")
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=clip_rate(frames))
        stream.height, stream.width = array.shape[1:3]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(MP4_CRF), "bf": "0", "preset": "veryfast"}
        stream.codec_context.thread_count = 1  # requests encode in parallel threads already
        for frame in array:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")))
        container.mux(stream.encode())
    return buffer.getvalue()


def vllm_video(frames: "Frames") -> tuple[np.ndarray, dict]:
    """``(array, metadata)``, the video item of vLLM's ``multi_modal_data`` (the form vLLM's own
    loaders return), with the same clip metadata the transformers path gives the processor
    (``models.inputs.video_metadata``); every frame is already sampled (``do_sample_frames: False``)."""
    from videostar.models.inputs import video_metadata

    meta = video_metadata(frames)
    return frames.array, {"total_num_frames": meta.total_num_frames, "fps": meta.fps, "duration": meta.duration,
                          "frames_indices": list(meta.frames_indices), "video_backend": "videostar",
                          "do_sample_frames": False}
