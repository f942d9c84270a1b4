"""A full disk (ENOSPC injected where the data reaches the disk) names the file, raises an
OutputError (a VideostarError: no traceback in the CLI) and leaves no truncated file behind.
The training side (a checkpoint that no longer fits, then a clean resume) is in
tests/train/test_checkpoints.py."""

import errno

import numpy as np
import pytest

import videostar.atomic
from videostar.data.manifest import Sample, load_manifest, write_manifest
from videostar.errors import OutputError, VideostarError
from videostar.video.cache import FrameCache
from videostar.video.decode import Frames


def _no_space(fd):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_writing_a_manifest_on_a_full_disk_keeps_the_old_one_whole(tmp_path, gray_video, monkeypatch):
    manifest = tmp_path / "m.jsonl"
    old = [Sample(id="a", video=str(gray_video), task="t")]
    write_manifest(old, manifest)
    before = manifest.read_bytes()
    monkeypatch.setattr(videostar.atomic.os, "fsync", _no_space)
    with pytest.raises(OutputError, match=f"{manifest}: cannot write: no space left on the device") as err:
        write_manifest([s.model_copy(update={"id": str(i)}) for i, s in enumerate(old * 1000)], manifest)
    assert isinstance(err.value, VideostarError)
    assert manifest.read_bytes() == before and len(load_manifest(manifest)) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gray.mp4", "m.jsonl"]  # no temporary file left


def test_a_frame_cache_entry_is_whole_or_absent(tmp_path, monkeypatch):
    cache = FrameCache(tmp_path / "cache")
    monkeypatch.setattr(videostar.atomic.os, "fsync", _no_space)
    with pytest.raises(OutputError, match="no space left on the device"):
        cache.put("k", Frames.from_array(np.zeros((2, 8, 8, 3), np.uint8)))
    assert list((tmp_path / "cache").iterdir()) == []
    assert cache.get("k") is None
