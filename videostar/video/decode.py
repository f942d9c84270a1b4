"""Decode exactly the frames a ``FrameSampling`` asks for, from a video file or a frame directory.

PyAV is the default backend: it seeks to the keyframe before each wanted frame instead of decoding the
whole file, follows real presentation times (so variable frame rate is handled), and applies the
stream's rotation metadata. decord, when installed, is an alternative backend that picks the
same frames (by presentation time); decord mishandles rotated videos (it crashes on them), so
those always go through PyAV. Datasets that ship frames (FineDiving, Something-Something) are
directories of images with an fps. Every failure raises ``VideoDecodeError`` naming the file, so a
caller can skip a bad video knowingly; a frame that cannot be decoded is never replaced by black.
"""

from __future__ import annotations

import errno
import importlib.util
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from videostar.errors import VideostarError
from videostar.video.sampling import FrameSampling

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
# Past this gap to the next wanted frame, seeking beats decoding every frame in between.
SEEK_GAP_S = 1.0
DEFAULT_TIMEOUT_S = 60.0
_now = time.monotonic  # the deadline clock (a seam for tests)


class VideoDecodeError(VideostarError, RuntimeError):
    """A video is missing, unreadable, has no video stream, or took too long to decode."""

    def __init__(self, path: str | Path, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


@dataclass(frozen=True)
class VideoInfo:
    duration: float  # seconds
    fps: float
    width: int  # probe(): the coded size; decode(): the size of the returned frames
    height: int


@dataclass(frozen=True)
class Frames:
    """Sampled frames: ``array`` is uint8 (T, H, W, 3) RGB; ``times`` the seconds each was shown."""

    array: np.ndarray
    times: np.ndarray
    info: VideoInfo

    @classmethod
    def from_array(cls, array: np.ndarray, fps: float = 8.0, start: float = 0.0) -> "Frames":
        """Frames already in memory, taken every 1/``fps`` seconds from ``start`` (tests, benchmarks)."""
        count, height, width = array.shape[:3]
        times = start + (np.arange(count) + 0.5) / fps
        return cls(array, times, VideoInfo(duration=count / fps, fps=fps, width=width, height=height))


def check_readable(path: str | Path) -> os.stat_result:
    """``os.stat`` of ``path``, or ``VideoDecodeError`` saying why not (missing, symlink loop, no permission)."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        raise VideoDecodeError(path, "file not found") from None
    except OSError as err:
        raise VideoDecodeError(path, "symbolic link loop" if err.errno == errno.ELOOP else err.strerror) from None


def probe(path: str | Path, fps: float | None = None) -> VideoInfo:
    """Duration, frame rate and coded size, without decoding (frame dirs need ``fps``)."""
    path = Path(path)
    check_readable(path)
    if path.is_dir():
        return _probe_frame_dir(path, fps)
    with _open(path, DEFAULT_TIMEOUT_S) as container:
        stream = _video_stream(container, path)
        return _info(container, stream)


def decode(
    path: str | Path,
    sampling: FrameSampling,
    segment: tuple[float, float] | None = None,
    fps: float | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    backend: Literal["pyav", "decord", "auto"] = "pyav",
) -> Frames:
    """The frames ``sampling`` picks from the clip (or from ``segment``, in seconds).

    ``fps`` is needed only for frame directories. ``backend="auto"`` uses decord when it is
    installed. Raises ``VideoDecodeError``.
    """
    path = Path(path)
    deadline = _now() + timeout_s
    check_readable(path)
    if path.is_dir():
        return _decode_frame_dir(path, sampling, segment, fps, deadline)
    use_decord = backend == "decord" or (backend == "auto" and importlib.util.find_spec("decord") is not None)
    if use_decord and _first_frame_rotation(path) == 0:
        return _decode_decord(path, sampling, segment)
    return _decode_pyav(path, sampling, segment, deadline, timeout_s)


def _clip_bounds(path: Path, info: VideoInfo, segment: tuple[float, float] | None) -> tuple[float, float]:
    if segment is None:
        return 0.0, info.duration
    start, end = segment
    if not 0 <= start < end:
        raise VideoDecodeError(path, f"bad segment [{start}, {end}]: need 0 <= start < end")
    if start >= info.duration:
        raise VideoDecodeError(path, f"segment starts at {start}s, after the video ends ({info.duration:.2f}s)")
    return start, min(end, info.duration)


# ---------------------------------------------------------------- PyAV (video files)


def _import_av():
    import av  # imported lazily: importing videostar must stay cheap

    return av


def _open(path: Path, timeout_s: float):
    av = _import_av()
    if path.is_file() and path.stat().st_size == 0:
        raise VideoDecodeError(path, "file is empty (0 bytes)")
    try:
        return av.open(str(path), timeout=timeout_s)
    except FileNotFoundError:
        raise VideoDecodeError(path, "file not found") from None
    except av.ExitError:  # PyAV's I/O interrupt fired: the timeout passed while reading
        raise VideoDecodeError(path, "opening timed out") from None
    except (av.FFmpegError, OSError, ValueError) as err:
        raise VideoDecodeError(path, f"cannot open: {err}") from None


def _video_stream(container, path: Path):
    if not container.streams.video:
        kinds = ", ".join(sorted({s.type for s in container.streams})) or "none"
        raise VideoDecodeError(path, f"no video stream (streams: {kinds})")
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    return stream


def _info(container, stream) -> VideoInfo:
    fps = float(stream.average_rate or stream.guessed_rate or stream.base_rate or 0) or 25.0
    if stream.duration is not None and stream.time_base is not None:
        duration = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        duration = container.duration / 1_000_000
    elif stream.frames:
        duration = stream.frames / fps
    else:
        duration = 0.0
    width, height = stream.codec_context.width, stream.codec_context.height
    return VideoInfo(duration=duration, fps=fps, width=width, height=height)


def _decode_pyav(path, sampling, segment, deadline, timeout_s) -> Frames:
    av = _import_av()
    with _open(path, timeout_s) as container:
        stream = _video_stream(container, path)
        info = _info(container, stream)
        if info.duration <= 0:
            raise VideoDecodeError(path, "video has zero length")
        start, end = _clip_bounds(path, info, segment)
        targets = sampling.times(start, end)
        try:
            picked, rotation = _seek_and_pick(container, stream, targets, deadline, path)
        except av.ExitError:
            raise VideoDecodeError(path, "decoding timed out") from None
        except av.FFmpegError as err:
            raise VideoDecodeError(path, f"decoding failed: {err}") from None
    height, width = sampling.output_size(info.height, info.width)
    arrays = []
    for frame in picked:
        if (frame.height, frame.width) != (height, width):
            frame = frame.reformat(width=width, height=height)
        arrays.append(frame.to_ndarray(format="rgb24"))
    return _frames(np.stack(arrays), rotation, targets, info)


def _frames(array: np.ndarray, rotation: int, targets, info: VideoInfo) -> Frames:
    """Apply the display rotation (degrees counter-clockwise) and package the result."""
    array = np.ascontiguousarray(np.rot90(array, k=rotation // 90, axes=(1, 2)))
    shown = VideoInfo(info.duration, info.fps, width=array.shape[2], height=array.shape[1])
    return Frames(array=array, times=np.asarray(targets, dtype=np.float64), info=shown)


def _first_frame_rotation(path: Path) -> int:
    with _open(path, DEFAULT_TIMEOUT_S) as container:
        first = next(container.decode(_video_stream(container, path)), None)
        return (first.rotation or 0) if first is not None else 0


def _decode_decord(path: Path, sampling: FrameSampling, segment) -> Frames:
    """decord reads a whole batch at once; frames are chosen by presentation time, as in PyAV."""
    import decord

    try:
        reader = decord.VideoReader(str(path))
        starts = reader.get_frame_timestamp(range(len(reader)))[:, 0]
    except decord.DECORDError as err:
        raise VideoDecodeError(path, f"cannot open: {err}") from None
    fps = float(reader.get_avg_fps())
    height, width = reader[0].shape[:2]
    info = VideoInfo(duration=len(reader) / fps, fps=fps, width=width, height=height)
    start, end = _clip_bounds(path, info, segment)
    targets = sampling.times(start, end)
    # the frame on screen at t: the last whose start time is <= t
    indices = np.clip(np.searchsorted(starts, targets + 1e-6, side="right") - 1, 0, len(reader) - 1)
    array = reader.get_batch(indices.tolist()).asnumpy()
    out_height, out_width = sampling.output_size(height, width)
    if (out_height, out_width) != (height, width):
        from PIL import Image

        array = np.stack([np.asarray(Image.fromarray(a).resize((out_width, out_height), Image.BILINEAR)) for a in array])
    return _frames(array, 0, targets, info)


def _seek_and_pick(container, stream, targets, deadline, path):
    """For each target time, the decoded frame shown at that moment (the last frame at or before it).

    Seeks to the keyframe before a target when it is more than SEEK_GAP_S ahead of the decoder,
    otherwise keeps decoding forward: few seeks for dense sampling, no full decode for sparse.
    """
    picked, rotation = [], 0
    decoder, current, ahead = None, None, None  # ahead: a decoded frame past the last target
    for target in targets:
        if current is None or target < _frame_time(current) or target - _frame_time(current) > SEEK_GAP_S:
            container.seek(max(int(target / stream.time_base), 0), stream=stream, backward=True, any_frame=False)
            decoder, current, ahead = container.decode(stream), None, None
        while True:
            if _now() > deadline:
                raise VideoDecodeError(path, "decoding timed out")
            if ahead is None:
                ahead = next(decoder, None)
            if ahead is None or (current is not None and _frame_time(ahead) > target):
                break  # 'current' is the frame on screen at 'target' (or the stream ended)
            current, ahead = ahead, None
        if current is None:
            raise VideoDecodeError(path, f"no frame could be decoded at {target:.3f}s")
        rotation = current.rotation or 0
        picked.append(current)
    return picked, rotation


def _frame_time(frame) -> float:
    return float(frame.time) if frame.time is not None else 0.0


# ---------------------------------------------------------------- frame directories


def _frame_files(path: Path) -> list[Path]:
    def natural(p: Path):
        return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", p.name)]

    return sorted((p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES), key=natural)


def _probe_frame_dir(path: Path, fps: float | None) -> VideoInfo:
    from PIL import Image

    if fps is None or fps <= 0:
        raise VideoDecodeError(path, "a directory of frames needs its fps (set meta.fps in the manifest)")
    files = _frame_files(path)
    if not files:
        raise VideoDecodeError(path, "directory holds no image frames")
    try:
        with Image.open(files[0]) as img:
            width, height = img.size
    except OSError as err:
        raise VideoDecodeError(files[0], f"cannot read frame: {err}") from None
    return VideoInfo(duration=len(files) / fps, fps=fps, width=width, height=height)


def _decode_frame_dir(path, sampling, segment, fps, deadline) -> Frames:
    from PIL import Image

    info = _probe_frame_dir(path, fps)
    files = _frame_files(path)
    start, end = _clip_bounds(path, info, segment)
    targets = sampling.times(start, end)
    height, width = sampling.output_size(info.height, info.width)
    arrays = []
    for t in targets:
        if _now() > deadline:
            raise VideoDecodeError(path, "decoding timed out")
        file = files[min(int(t * info.fps), len(files) - 1)]
        try:
            with Image.open(file) as img:
                img = img.convert("RGB")
                if img.size != (width, height):
                    img = img.resize((width, height), Image.BILINEAR)
                arrays.append(np.asarray(img))
        except OSError as err:
            raise VideoDecodeError(file, f"cannot read frame: {err}") from None
    array = np.stack(arrays)
    return Frames(array=array, times=np.asarray(targets), info=VideoInfo(info.duration, info.fps, width, height))
