"""Frame decoding: seek-based sampling vs decoding every frame, and cached vs uncached.

8 uniformly sampled frames from a 60-second 720p H.264 video (25 fps, a keyframe every 2 s, as in
typical web video). The naive baseline decodes every frame in order and converts only the 8 it
needs to arrays (the cheapest honest version of "decode all"). Prints JSON.

    python benchmarks/decode_bench.py [--repeats 3] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from videostar.video.cache import FrameCache
from videostar.video.decode import decode
from videostar.video.encode import write_video
from videostar.video.sampling import FrameSampling

WIDTH, HEIGHT, FPS, SECONDS = 1280, 720, 25, 60


def make_video(path: Path) -> Path:
    if path.exists():
        return path
    base = np.fromfunction(lambda y, x, c: (x // 8 + y // 8 + 40 * c) % 256, (HEIGHT, WIDTH, 3)).astype(np.uint8)

    def frames():
        for i in range(FPS * SECONDS):
            frame = np.roll(base, 4 * i, axis=1)
            frame[100:200, (7 * i) % (WIDTH - 100):(7 * i) % (WIDTH - 100) + 100] = 255
            yield frame

    return write_video(path, frames(), fps=FPS, crf=23, gop=2 * FPS)


def decode_all(path: Path, sampling: FrameSampling) -> np.ndarray:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        duration = float(stream.duration * stream.time_base)
        targets = list(sampling.times(0, duration))
        picked, previous = [], None
        for frame in container.decode(stream):
            while targets and frame.time > targets[0]:
                picked.append(previous.to_ndarray(format="rgb24"))
                targets.pop(0)
            previous = frame
        picked += [previous.to_ndarray(format="rgb24") for _ in targets]
    return np.stack(picked)


def timed(fn, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "videostar-bench")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    video = make_video(args.workdir / "bench_720p_60s.mp4")
    sampling = FrameSampling(num_frames=8)

    t_all, all_frames = timed(lambda: decode_all(video, sampling), args.repeats)
    t_seek, seek_frames = timed(lambda: decode(video, sampling).array, args.repeats)
    same = bool(np.array_equal(all_frames, seek_frames))
    decord_s = None
    if importlib.util.find_spec("decord") is not None:
        decord_s, _ = timed(lambda: decode(video, sampling, backend="decord").array, args.repeats)

    cache_dir = Path(tempfile.mkdtemp(dir=args.workdir))

    def uncached():
        cache = FrameCache(Path(tempfile.mkdtemp(dir=cache_dir)))
        return cache.load(video, sampling).array

    cache = FrameCache(cache_dir / "warm")
    cache.load(video, sampling)
    t_uncached, _ = timed(uncached, args.repeats)
    t_cached, cached_frames = timed(lambda: cache.load(video, sampling).array, args.repeats)

    print(json.dumps({
        "video": {"width": WIDTH, "height": HEIGHT, "fps": FPS, "seconds": SECONDS, "codec": "h264", "gop_s": 2},
        "frames_sampled": 8,
        "decode_all_s": round(t_all, 4),
        "seek_s": round(t_seek, 4),
        "seek_speedup_vs_decode_all": round(t_all / t_seek, 1),
        "same_frames_as_decode_all": same,
        "decord_s": None if decord_s is None else round(decord_s, 4),
        "uncached_load_s": round(t_uncached, 4),
        "cached_load_s": round(t_cached, 4),
        "cache_speedup": round(t_uncached / t_cached, 1),
        "cached_frames_identical": bool(np.array_equal(cached_frames, seek_frames)),
        "repeats": args.repeats,
    }, indent=2))


if __name__ == "__main__":
    main()
