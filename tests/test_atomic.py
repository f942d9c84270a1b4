"""The atomic-write helper: whole file or the old one, never a truncated one; errors name the file."""

from __future__ import annotations

import errno
import os

import pytest

from videostar import atomic
from videostar.errors import OutputError, VideostarError


def test_writes_whole_files_and_replaces(tmp_path):
    target = tmp_path / "sub" / "out.json"
    atomic.write_json(target, {"a": 1})
    assert target.read_text() == '{\n  "a": 1\n}\n'
    assert atomic.write_jsonl(target, [{"x": 1}, {"y": "é"}]) == 2
    assert target.read_text().splitlines() == ['{"x": 1}', '{"y": "é"}']
    assert [p.name for p in target.parent.iterdir()] == ["out.json"]  # no temporary left behind


def test_failure_in_the_block_keeps_the_old_file(tmp_path):
    target = tmp_path / "yield.json"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic.atomic_open(target) as handle:
            handle.write("half of the new")
            raise RuntimeError("crash mid-write")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["yield.json"]


def test_out_of_space_names_the_file_and_leaves_nothing_truncated(tmp_path, monkeypatch):
    """Injected ENOSPC at fsync (a full disk cannot be mounted here without privileges)."""
    target = tmp_path / "export.jsonl"

    def full_disk(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic.os, "fsync", full_disk)
    with pytest.raises(OutputError) as caught:
        atomic.write_jsonl(target, [{"a": 1}] * 10)
    assert str(target) in str(caught.value) and "no space" in str(caught.value)
    assert isinstance(caught.value, VideostarError)
    assert list(tmp_path.iterdir()) == []


def test_permission_denied_names_the_file(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root ignores directory permissions")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(OutputError, match="permission denied"):
        atomic.write_text(locked / "x.txt", "x")


def test_a_folder_appears_whole_or_not_at_all(tmp_path):
    target = tmp_path / "model"
    with atomic.atomic_dir(target) as folder:
        (folder / "config.json").write_text("{}")
        (folder / "weights.bin").write_bytes(b"w1")
    assert sorted(p.name for p in target.iterdir()) == ["config.json", "weights.bin"]
    with pytest.raises(RuntimeError):
        with atomic.atomic_dir(target) as folder:
            (folder / "config.json").write_text('{"new": 1}')
            raise RuntimeError("killed mid-save")
    assert (target / "weights.bin").read_bytes() == b"w1" and (target / "config.json").read_text() == "{}"
    with atomic.atomic_dir(target) as folder:  # a finished save replaces the old folder
        (folder / "weights.bin").write_bytes(b"w2")
    assert [p.name for p in target.iterdir()] == ["weights.bin"] and (target / "weights.bin").read_bytes() == b"w2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # nothing temporary left beside it
