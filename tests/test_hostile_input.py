"""Hostile or broken input ends in a file:line:field error (a VideostarError), never a traceback,
in bounded time: deep nesting, bad bytes, symlink loops, huge cells, NaN, path escapes, pickles."""

import json
import os
import pickle
import time
from collections import OrderedDict

import numpy as np
import pytest

from videostar.data.importers.safe_pickle import MAX_ALLOCATION, UnsafePickleError, safe_load
from videostar.data.manifest import MAX_JSON_DEPTH, MAX_PROBLEMS_PER_KIND, ManifestError, load_manifest
from videostar.errors import VideostarError
from videostar.video.cache import FrameCache
from videostar.video.decode import VideoDecodeError, decode, probe
from videostar.video.sampling import FrameSampling


def _sample(video="a.mp4", **extra) -> dict:
    return {"id": "s1", "video": video, "task": "t", "labels": [{"type": "class", "value": "x"}], **extra}


def _problems(path, **kwargs) -> dict:
    with pytest.raises(ManifestError) as err:
        load_manifest(path, **kwargs)
    assert isinstance(err.value, VideostarError)
    return {(p.where.rsplit(":", 1)[-1], p.field): p.message for p in err.value.problems}


@pytest.fixture
def video(tmp_path, gray_video):
    return gray_video.rename(tmp_path / "a.mp4")


def test_json_nested_100000_deep_is_a_problem_not_a_recursion_error(tmp_path, video):
    path = tmp_path / "m.jsonl"
    path.write_text(json.dumps(_sample()) + "\n" + "[" * 100_000 + "]" * 100_000 + "\n"
                    + json.dumps(_sample(id="s2", meta={"a": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}))
                    + "\n")
    problems = _problems(path)
    assert problems == {("2", ""): f"JSON nested deeper than {MAX_JSON_DEPTH} levels",
                        ("3", ""): f"JSON nested deeper than {MAX_JSON_DEPTH} levels"}


def test_bytes_that_are_not_utf8_are_named_with_their_offset(tmp_path, video):
    first = (json.dumps(_sample()) + "\n").encode()
    path = tmp_path / "m.jsonl"
    path.write_bytes(first + b'{"id": "s2", "video": "a\xff.mp4", "task": "t"}\n')
    assert _problems(path) == {("2", ""): f"not UTF-8 text: byte 0xff at byte offset {len(first) + 24} of the file"}
    csv_path = tmp_path / "m.csv"
    csv_path.write_bytes(b"id,video,task\ns1,a.mp4,t\ns2,\xfe.mp4,t\n")
    assert _problems(csv_path) == {("3", ""): "not UTF-8 text: byte 0xfe at byte offset 28 of the file"}


def test_a_symlink_loop_is_a_problem_for_the_manifest_the_decoder_and_the_cache(tmp_path):
    loop = tmp_path / "loop.mp4"
    os.symlink(loop, loop)
    path = tmp_path / "m.jsonl"
    path.write_text(json.dumps(_sample("loop.mp4")) + "\n")
    (message,) = _problems(path).values()
    assert str(loop) in message and "loop" in message.lower()
    for call in (lambda: probe(loop), lambda: decode(loop, FrameSampling(num_frames=2)),
                 lambda: FrameCache(tmp_path / "cache").load(loop, FrameSampling(num_frames=2))):
        with pytest.raises(VideoDecodeError, match="symbolic link loop") as err:
            call()
        assert isinstance(err.value, VideostarError) and str(loop) in str(err.value)


def test_a_csv_cell_over_the_limit_is_a_problem_at_its_line(tmp_path, video):
    path = tmp_path / "m.csv"
    path.write_text("id,video,task,labels\ns1,a.mp4,t,\n" + "s2,a.mp4,t," + "x" * (200 * 1024) + "\n")
    assert _problems(path) == {("3", ""): "a cell is longer than 131,072 characters (the limit)"}


@pytest.mark.parametrize("bad, field", [
    ({"labels": [{"type": "score", "value": float("nan")}]}, "labels[0].value"),
    ({"labels": [{"type": "score", "value": 3, "scale": [0, float("inf")]}]}, "labels[0].scale[1]"),
    ({"labels": [{"type": "timestamp", "value": float("nan")}]}, "labels[0].value"),
    ({"labels": [{"type": "temporal_range", "value": [0.1, float("nan")]}]}, "labels[0].value[1]"),
    ({"labels": [{"type": "bbox", "value": [0, 0, float("inf"), 1]}]}, "labels[0].value[2]"),
    ({"labels": [{"type": "bbox", "value": [0, 0, 1, 1], "time": float("nan")}]}, "labels[0].time"),
    ({"segment": [0, float("inf")]}, "segment[1]"),
    ({"duration": float("nan")}, "duration"),
    ({"meta": {"fps": float("nan")}}, "meta.fps"),
])
def test_nan_and_infinity_are_refused_wherever_a_number_is_expected(tmp_path, video, bad, field):
    path = tmp_path / "m.jsonl"
    path.write_text(json.dumps(_sample(**bad)) + "\n")  # json.dumps writes NaN / Infinity, as json.loads reads
    assert "NaN" in path.read_text() or "Infinity" in path.read_text()
    (problem_field,) = [f for _, f in _problems(path)]
    assert problem_field == field


def test_a_csv_with_a_million_columns_reports_in_seconds(tmp_path, video):
    path = tmp_path / "wide.csv"
    columns = 1_000_000
    with path.open("w") as f:
        f.write("id,video,task," + ",".join(f"c{i}" for i in range(columns)) + "\n")
        f.write("s1,a.mp4,t," + ",".join("1" for _ in range(columns)) + "\n")
    start = time.perf_counter()
    with pytest.raises(ManifestError) as err:
        load_manifest(path)
    assert time.perf_counter() - start < 10
    assert len(str(err.value)) < 2000
    assert "unknown column(s) 'c0', 'c1'" in str(err.value) and "and 999,990 more" in str(err.value)


def test_problem_lists_are_capped_per_kind(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text("".join(json.dumps(_sample("missing.mp4", id=f"s{i}")) + "\n" for i in range(5000)))
    with pytest.raises(ManifestError) as err:
        load_manifest(path)
    text = str(err.value)
    assert text.startswith("5,000 problem(s)")
    assert len(err.value.problems) == MAX_PROBLEMS_PER_KIND
    assert f"and {5000 - MAX_PROBLEMS_PER_KIND:,} more of the same kind (video)" in text
    assert len(text.splitlines()) == MAX_PROBLEMS_PER_KIND + 2


def test_unknown_fields_are_listed_once_per_record(tmp_path, video):
    path = tmp_path / "m.jsonl"
    path.write_text(json.dumps({**_sample(), **{f"k{i}": i for i in range(100_000)}}) + "\n")
    assert _problems(path) == {("1", ""): "unknown field(s) " + ", ".join(f"'k{i}'" for i in range(10))
                               + " and 99,990 more"}


def test_relative_paths_may_not_leave_the_manifests_folder(tmp_path, video):
    root = tmp_path / "data"
    root.mkdir()
    path = root / "m.jsonl"
    climb = "../" * 40 + "etc/passwd"
    path.write_text(json.dumps(_sample(climb)) + "\n")
    (message,) = _problems(path).values()
    assert f"{climb!r} leaves the manifest's folder" in message and "--allow-outside-root" in message
    (sample,) = load_manifest(path, allow_outside_root=True)
    assert sample.video == "/etc/passwd"
    path.write_text(json.dumps(_sample(str(video))) + "\n" + json.dumps(_sample("x/../../a.mp4", id="s2")) + "\n")
    assert _problems(path).keys() == {("2", "video")}  # absolute stays allowed; lexical ../ escapes do not
    path.write_text(json.dumps(_sample("clips/../../data/../a.mp4")) + "\n")
    assert _problems(path).keys() == {("1", "video")}


def test_the_validate_command_answers_hostile_input_without_a_traceback(tmp_path):
    from typer.testing import CliRunner

    from videostar.cli import app

    path = tmp_path / "m.jsonl"
    path.write_bytes(b"[" * 100_000 + b"\n" + b'{"id": "\xff"}\n')
    result = CliRunner().invoke(app, ["data", "validate", str(path)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert f"{path}:1: JSON nested deeper" in result.output and f"{path}:2: not UTF-8 text" in result.output


# ------------------------------------------------------------------ pickles


def _pickle(tmp_path, data: bytes):
    path = tmp_path / "p.pkl"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("payload, what", [
    (b"cbuiltins\nbytearray\n(J\x00\xca\x9a;tR.", "bytearray(n)"),  # 29 bytes asking for 1 GB
    (b"cnumpy\nndarray\n(J\x00\xca\x9a;\x85tR.", "numpy.ndarray(shape)"),
    (b"cnumpy.core.multiarray\n_reconstruct\n(cnumpy\nndarray\nJ\x00\xca\x9a;\x85C\x01btR.", "_reconstruct"),
])
def test_a_tiny_pickle_cannot_allocate_a_gigabyte(tmp_path, payload, what):
    assert len(payload) <= 64
    with pytest.raises(UnsafePickleError, match=f"asks for 1,000,000,000 bytes|asks for 8,000,000,000 bytes") as err:
        safe_load(_pickle(tmp_path, payload))
    assert what in str(err.value) and str(tmp_path / "p.pkl") in str(err.value)
    assert f"{MAX_ALLOCATION:,}" in str(err.value)


@pytest.mark.parametrize("protocol", [3, 4, 5])
def test_data_pickles_still_load(tmp_path, protocol):
    data = {("event", 1): [np.arange(6, dtype=np.float32).reshape(2, 3), OrderedDict(a=1), {1, 2}, frozenset([3]),
                           1 + 2j, bytearray(b"abc"), slice(1, 2), np.float64(3.5), "text", np.zeros(0)]}
    loaded = safe_load(_pickle(tmp_path, pickle.dumps(data, protocol=protocol)))
    assert np.array_equal(loaded[("event", 1)][0], data[("event", 1)][0])
    assert loaded[("event", 1)][1:9] == data[("event", 1)][1:9]


def test_refused_and_broken_pickles_are_videostar_errors(tmp_path):
    with pytest.raises(VideostarError, match="forbidden global os.system"):
        safe_load(_pickle(tmp_path, b"cos\nsystem\n(S'true'\ntR."))
    with pytest.raises(VideostarError, match="p.pkl: not a readable pickle"):
        safe_load(_pickle(tmp_path, pickle.dumps({"a": list(range(100))})[:20]))
