"""On-disk cache of sampled frames, so each video is decoded once per sampling spec.

Entries are keyed by (absolute path, size, mtime, sampling spec, segment): editing or replacing a
video invalidates its entries by construction. Writes go through ``videostar.atomic`` (temporary
file, fsync, rename), so concurrent readers see a whole entry or none. Reading refreshes an entry's
mtime, and writes evict least-recently-used entries past ``max_bytes``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from videostar.atomic import atomic_open
from videostar.video.decode import Frames, VideoInfo, check_readable, decode
from videostar.video.sampling import FrameSampling

_SUFFIX = ".frames.npz"


class FrameCache:
    def __init__(self, root: str | Path, max_bytes: int = 4 * 1024**3):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes

    def key(self, path: str | Path, sampling: FrameSampling, segment: tuple[float, float] | None = None,
            fps: float | None = None) -> str:
        """Everything that changes the frames (as ``engine.work.Clip``): a frame folder's ``fps`` decides
        which of its images are the sampled times."""
        stat = check_readable(path)  # a missing file or a symlink loop is a VideoDecodeError, not a crash
        path = Path(path).resolve()
        parts = [str(path), str(stat.st_size), str(stat.st_mtime_ns), sampling.key(), json.dumps(segment),
                 json.dumps(fps)]
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()

    def get(self, key: str) -> Frames | None:
        file = self.root / (key + _SUFFIX)
        try:
            with np.load(file) as data:
                frames = Frames(
                    array=data["array"],
                    times=data["times"],
                    info=VideoInfo(**json.loads(str(data["info"]))),
                )
            os.utime(file)  # mark as recently used
            return frames
        except (FileNotFoundError, KeyError, ValueError, OSError):
            return None  # absent, evicted meanwhile, or unreadable: a miss

    def put(self, key: str, frames: Frames) -> None:
        info = json.dumps(vars(frames.info))
        with atomic_open(self.root / (key + _SUFFIX), "wb") as out:
            np.savez(out, array=frames.array, times=frames.times, info=np.array(info))
        self._evict()

    def load(
        self,
        path: str | Path,
        sampling: FrameSampling,
        segment: tuple[float, float] | None = None,
        fps: float | None = None,
    ) -> Frames:
        """Cached frames for this video and spec, decoding (and caching) on a miss."""
        key = self.key(path, sampling, segment, fps)
        frames = self.get(key)
        if frames is None:
            frames = decode(path, sampling, segment=segment, fps=fps)
            self.put(key, frames)
        return frames

    def size_bytes(self) -> int:
        return sum(e.stat().st_size for e in os.scandir(self.root) if e.name.endswith(_SUFFIX))

    def _evict(self) -> None:
        entries = []
        for entry in os.scandir(self.root):
            if entry.name.endswith(_SUFFIX):
                try:
                    st = entry.stat()
                except FileNotFoundError:
                    continue
                entries.append((st.st_mtime_ns, st.st_size, entry.path))
        total = sum(size for _, size, _ in entries)
        for _, size, file in sorted(entries):
            if total <= self.max_bytes:
                break
            Path(file).unlink(missing_ok=True)
            total -= size
