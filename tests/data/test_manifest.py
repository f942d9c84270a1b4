import csv
import json
from pathlib import Path

import pytest

from videostar.data.manifest import ManifestError, load_dataset_manifest, load_manifest, write_manifest


def _write_jsonl(path: Path, records: list) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n")
    return path


def _good(video="clips/a.mp4", **extra):
    return {"id": "s1", "video": video, "task": "action recognition",
            "labels": [{"type": "class", "value": "cartwheel"}], **extra}


def test_valid_jsonl_resolves_video_paths_relative_to_the_manifest(tmp_path, gray_video):
    (tmp_path / "clips").mkdir()
    gray_video.rename(tmp_path / "clips" / "a.mp4")
    samples = load_manifest(_write_jsonl(tmp_path / "m.jsonl", [_good()]))
    assert len(samples) == 1
    assert samples[0].video == str((tmp_path / "clips" / "a.mp4").resolve())
    assert samples[0].split == "train"
    assert samples[0].labels[0].value == "cartwheel"


def test_every_problem_is_reported_at_once_with_file_line_and_field(tmp_path, gray_video):
    gray_video.rename(tmp_path / "ok.mp4")
    manifest = _write_jsonl(tmp_path / "m.jsonl", [
        _good("ok.mp4"),                                                              # line 1: fine
        {**_good("ok.mp4"), "id": "s2", "labels": [{"type": "cartwheel", "value": 1}]},  # 2: unknown type
        {**_good("ok.mp4"), "id": "s3", "labels": [
            {"type": "class", "value": "x"}, {"type": "bbox", "value": [0.5, 0.1, 0.2, 0.4]}]},  # 3: x2 < x1
        {**_good("ok.mp4"), "id": "s4", "labels": [{"type": "temporal_range", "value": [0.3, 1.4]}]},  # 4
        {**_good("missing.mp4"), "id": "s5"},                                         # 5: missing video
        _good("ok.mp4"),                                                              # 6: duplicate id s1
        "{not json",                                                                  # 7
        {**_good("ok.mp4"), "id": "s8", "task": ""},                                  # 8: empty task
    ])
    with pytest.raises(ManifestError) as err:
        load_manifest(manifest)
    problems = {(p.where.rsplit(":", 1)[1], p.field): p.message for p in err.value.problems}
    assert len(err.value.problems) == 7
    assert "does not match any of the expected tags" in problems[("2", "labels[0]")]
    assert "x2 must be > x1" in problems[("3", "labels[1].value")]
    assert "within 0..1" in problems[("4", "labels[0]")]
    assert "video not found" in problems[("5", "video")]
    assert "duplicate id 's1'" in problems[("6", "id")]
    assert "invalid JSON" in problems[("7", "")]
    assert ("8", "task") in problems
    assert str(manifest) in str(err.value)  # names the file


def test_frame_directory_needs_fps(tmp_path):
    (tmp_path / "frames").mkdir()
    manifest = _write_jsonl(tmp_path / "m.jsonl", [_good("frames")])
    with pytest.raises(ManifestError, match="meta.fps"):
        load_manifest(manifest)
    _write_jsonl(manifest, [_good("frames", meta={"fps": 25})])
    assert load_manifest(manifest)[0].fps == 25.0


def test_csv_manifest_with_json_label_cells(tmp_path, gray_video):
    gray_video.rename(tmp_path / "a.mp4")
    path = tmp_path / "m.csv"
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "video", "task", "labels", "split"])
        writer.writerow(["a", "a.mp4", "counting", json.dumps([{"type": "score", "value": 3}]), "val"])
        writer.writerow(["b", "a.mp4", "counting", "[{bad json", "val"])
    with pytest.raises(ManifestError) as err:
        load_manifest(path)
    (problem,) = err.value.problems
    assert problem.where.endswith("m.csv:3") and problem.field == "labels"
    path.write_text(path.read_text().splitlines()[0] + "\n" + path.read_text().splitlines()[1] + "\n")
    (sample,) = load_manifest(path)
    assert sample.split == "val" and sample.labels[0].value == 3.0


def test_hugging_face_dataset_in_memory_and_saved(tmp_path, gray_video):
    from datasets import Dataset

    gray_video.rename(tmp_path / "a.mp4")
    # Same-typed labels as structs: Arrow fills absent fields (here "time") with None, to be dropped.
    boxes = Dataset.from_list([
        {"id": "a", "video": "a.mp4", "task": "t", "labels": [{"type": "bbox", "value": [0.1, 0.1, 0.5, 0.5]}]},
        {"id": "b", "video": "a.mp4", "task": "t",
         "labels": [{"type": "bbox", "value": [0.2, 0.1, 0.5, 0.5], "time": 0.5}]},
    ])
    samples = load_dataset_manifest(boxes, tmp_path)
    assert samples[0].labels[0].time is None and samples[1].labels[0].time == 0.5
    # Mixed value types cannot share an Arrow column: labels as a JSON string instead.
    mixed = Dataset.from_list([{"id": "c", "video": "a.mp4", "task": "t", "labels": json.dumps(
        [{"type": "class", "value": "jump"}, {"type": "score", "value": 2, "scale": [0, 5]}])}])
    (sample,) = load_dataset_manifest(mixed, tmp_path)
    assert [label.type for label in sample.labels] == ["class", "score"]
    boxes.save_to_disk(str(tmp_path / "saved"))
    (tmp_path / "saved" / "a.mp4").symlink_to(tmp_path / "a.mp4")
    assert [s.id for s in load_manifest(tmp_path / "saved")] == ["a", "b"]
    bad = Dataset.from_list([{"id": "d", "video": "a.mp4", "task": "t",
                              "labels": [{"type": "bbox", "value": [0.9, 0.1, 0.5, 0.5]}]}])
    with pytest.raises(ManifestError, match="dataset row 0: labels\\[0\\].value: x2 must be > x1"):
        load_dataset_manifest(bad, tmp_path)


def test_write_then_load_round_trips(tmp_path, toy_manifest):
    samples = load_manifest(toy_manifest)
    out = tmp_path / "copy" / "m.jsonl"
    write_manifest(samples, out)
    again = load_manifest(out)
    assert [s.model_dump() for s in again] == [s.model_dump() for s in samples]
