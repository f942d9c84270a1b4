import json

from typer.testing import CliRunner

from videostar.cli import app
from videostar.toyworld.scenes import TASKS

runner = CliRunner()


def test_toy_make_validate_decode_and_stats(tmp_path):
    out = tmp_path / "toy"
    result = runner.invoke(app, ["toy", "make", str(out), "--n", "3", "--seed", "1"])
    assert result.exit_code == 0, result.output
    manifest = out / "manifest.jsonl"
    result = runner.invoke(app, ["data", "validate", str(manifest), "--decode"])
    assert result.exit_code == 0 and "OK" in result.output and f"{3 * len(TASKS)} samples" in result.output
    result = runner.invoke(app, ["data", "stats", str(manifest), "--json"])
    stats = json.loads(result.output)
    assert stats["samples"] == 3 * len(TASKS) and stats["videos"] == 3 and stats["label_types"]["bbox"] == 3
    assert stats["duration_s"]["min"] == 2.0
    result = runner.invoke(app, ["data", "stats", str(manifest)])
    assert result.exit_code == 0 and "motion direction" in result.output


def test_validate_lists_every_problem_and_every_unreadable_video(tmp_path):
    runner.invoke(app, ["toy", "make", str(tmp_path), "--n", "2", "--task", "motion direction"])
    (tmp_path / "videos" / "toy_00001.mp4").write_bytes(b"\x00" * 100)  # corrupt one video
    manifest = tmp_path / "manifest.jsonl"
    assert runner.invoke(app, ["data", "validate", str(manifest)]).exit_code == 0  # no decode: not noticed
    result = runner.invoke(app, ["data", "validate", str(manifest), "--decode"])
    assert result.exit_code == 1
    assert "toy_00001_motion_direction" in result.output and "toy_00001.mp4" in result.output
    assert "toy_00000" not in result.output
    lines = manifest.read_text().splitlines()
    bad = json.loads(lines[0])
    bad["labels"] = [{"type": "bbox", "value": [0.9, 0, 0.1, 1]}]
    manifest.write_text(json.dumps(bad) + "\n" + lines[0] + "\n")
    result = runner.invoke(app, ["data", "validate", str(manifest)])
    assert result.exit_code == 1
    assert "manifest.jsonl:1: labels[0].value: x2 must be > x1" in result.output.replace("\n", "")
    assert "manifest.jsonl:2: id: duplicate id" in result.output.replace("\n", "")


def test_validate_seconds_label_beyond_video_end(tmp_path):
    runner.invoke(app, ["toy", "make", str(tmp_path), "--n", "1", "--task", "motion direction"])
    manifest = tmp_path / "manifest.jsonl"
    record = json.loads(manifest.read_text())
    record["labels"] = [{"type": "temporal_range", "value": [1.0, 5.0], "unit": "seconds"}]  # video is 2 s
    manifest.write_text(json.dumps(record) + "\n")
    result = runner.invoke(app, ["data", "validate", str(manifest)])
    assert result.exit_code == 1 and "past the video's end" in result.output


def test_import_command(tmp_path):
    src = tmp_path / "train.csv"
    src.write_text("label,youtube_id,time_start,time_end,split\nabseiling,abc,3,13,train\n")
    out = tmp_path / "m.jsonl"
    result = runner.invoke(app, ["data", "import", "kinetics", str(src), str(out)])
    assert result.exit_code == 0 and "wrote 1 samples" in result.output
    assert json.loads(out.read_text())["labels"] == [{"type": "class", "value": "abseiling", "name": "action"}]
    result = runner.invoke(app, ["data", "import", "nope", str(src), str(out)])
    assert result.exit_code == 1 and "unknown format" in result.output


def test_unknown_toy_task(tmp_path):
    result = runner.invoke(app, ["toy", "make", str(tmp_path), "--n", "1", "--task", "juggling"])
    assert result.exit_code == 1 and "unknown toy task" in result.output


def test_videos_outside_the_manifests_folder_need_allow_outside_root(tmp_path, gray_video, tiny_model):
    """A relative path that climbs out of the manifest's folder is refused by every entry point
    (data validate, generate's config) unless the user says so."""
    folder = tmp_path / "data" / "sub"
    folder.mkdir(parents=True)
    manifest = folder / "m.jsonl"
    manifest.write_text(json.dumps({"id": "a", "video": "../../gray.mp4", "task": "t",
                                    "labels": [{"type": "class", "value": "gray"}]}) + "\n")
    refused = runner.invoke(app, ["data", "validate", str(manifest)])
    assert refused.exit_code == 1 and "leaves the manifest's folder" in refused.output
    assert "Traceback" not in refused.output
    allowed = runner.invoke(app, ["data", "validate", str(manifest), "--allow-outside-root"])
    assert allowed.exit_code == 0 and "OK: 1 samples" in allowed.output
    run = ["generate", "--manifest", str(manifest), "--run-dir", str(tmp_path / "run"), "steps=[]", "splits=null",
           "model.device=cpu"]
    refused = runner.invoke(app, [*run, "model.path=" + str(tiny_model)])
    assert refused.exit_code == 1 and "leaves the manifest's folder" in refused.output
    allowed = runner.invoke(app, [*run, "model.path=" + str(tiny_model), "allow_outside_root=true", "--resume"])
    assert allowed.exit_code == 0, allowed.output


def test_a_model_that_cannot_be_loaded_is_named_without_traceback(tmp_path, toy_manifest):
    result = runner.invoke(app, ["generate", "--manifest", str(toy_manifest), "--run-dir", str(tmp_path / "run"),
                                 "--model", str(tmp_path / "no-such-model")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"{tmp_path / 'no-such-model'}: cannot load this model" in result.output
