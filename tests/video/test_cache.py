import multiprocessing as mp
import os
import time

import numpy as np

from media import frame_index, gray_frames
from videostar.video.cache import FrameCache
from videostar.video.decode import decode
from videostar.video.encode import write_video
from videostar.video.sampling import FrameSampling


def test_hit_returns_identical_frames_and_skips_decoding(tmp_path, gray_video, monkeypatch):
    cache = FrameCache(tmp_path / "cache")
    spec = FrameSampling(num_frames=4)
    first = cache.load(gray_video, spec)
    import videostar.video.cache as cache_module

    monkeypatch.setattr(cache_module, "decode", lambda *a, **k: (_ for _ in ()).throw(AssertionError("decoded")))
    second = cache.load(gray_video, spec)
    assert np.array_equal(first.array, second.array)
    assert second.times.tolist() == first.times.tolist() and second.info == first.info


def test_key_changes_with_spec_segment_and_file_content(tmp_path, gray_video):
    cache = FrameCache(tmp_path / "cache")
    key = cache.key(gray_video, FrameSampling(num_frames=4))
    assert key != cache.key(gray_video, FrameSampling(num_frames=8))
    assert key != cache.key(gray_video, FrameSampling(num_frames=4), segment=(0.0, 1.0))
    cache.load(gray_video, FrameSampling(num_frames=4))
    # replace the video with different content: the stale entry must not be served
    write_video(gray_video, gray_frames(16)[::-1], fps=8)
    os.utime(gray_video, ns=(time.time_ns() + 10**9,) * 2)
    frames = cache.load(gray_video, FrameSampling(num_frames=4))
    assert [frame_index(f) for f in frames.array] == [13, 9, 5, 1]


def test_size_limit_evicts_least_recently_used(tmp_path):
    videos = [write_video(tmp_path / f"v{i}.mp4", gray_frames(8), fps=8) for i in range(3)]
    spec = FrameSampling(num_frames=8)
    probe_cache = FrameCache(tmp_path / "probe")
    probe_cache.load(videos[0], spec)
    entry_size = probe_cache.size_bytes()
    cache = FrameCache(tmp_path / "cache", max_bytes=int(entry_size * 2.5))
    keys = [cache.key(v, spec) for v in videos]
    cache.load(videos[0], spec)
    time.sleep(0.01)
    cache.load(videos[1], spec)
    time.sleep(0.01)
    assert cache.get(keys[0]) is not None  # touch v0: now v1 is the least recently used
    time.sleep(0.01)
    cache.load(videos[2], spec)
    assert cache.size_bytes() <= cache.max_bytes
    assert cache.get(keys[1]) is None
    assert cache.get(keys[0]) is not None and cache.get(keys[2]) is not None


def _worker(args):
    root, video, rounds = args
    cache = FrameCache(root, max_bytes=10**9)
    spec = FrameSampling(num_frames=4)
    out = []
    for _ in range(rounds):
        key = cache.key(video, spec)
        cache.put(key, decode(video, spec))  # concurrent writers replace the same entry
        hit = cache.get(key)
        out.append(None if hit is None else [frame_index(f) for f in hit.array])
    return out


def test_concurrent_writers_and_readers_never_see_a_partial_entry(tmp_path, gray_video):
    with mp.get_context("spawn").Pool(4) as pool:
        results = pool.map(_worker, [(str(tmp_path / "cache"), str(gray_video), 10)] * 4)
    assert all(r == [2, 6, 10, 14] for worker in results for r in worker)
    assert not list((tmp_path / "cache").glob("*.tmp"))


def test_a_frame_folder_under_two_frame_rates_is_two_cache_entries(tmp_path):
    """The same second of a frame folder is images 0-4 at 5 fps and images 0-9 at 10 fps: a cache
    keyed without the fps would serve the first clip's frames for the second."""
    from PIL import Image

    folder = tmp_path / "frames"
    folder.mkdir()
    for i, img in enumerate(gray_frames(10)):
        Image.fromarray(img).save(folder / f"{i:05d}.png")
    cache = FrameCache(tmp_path / "cache")
    spec = FrameSampling(num_frames=5)
    at_5 = cache.load(folder, spec, segment=(0.0, 1.0), fps=5)
    at_10 = cache.load(folder, spec, segment=(0.0, 1.0), fps=10)
    assert [frame_index(f) for f in at_5.array] == [0, 1, 2, 3, 4]
    assert [frame_index(f) for f in at_10.array] == [1, 3, 5, 7, 9]
