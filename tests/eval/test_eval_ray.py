"""`videostar eval --engine ray`: eval's jobs through the Ray Data runner's stages give exactly the
in-process result (greedy decoding: the tiny model; a served model answering from the frames it
decodes, so the accuracies are not all zero), and the driver never loads the model."""

from __future__ import annotations

import json

import pytest
from helpers import local_openai_server
from typer.testing import CliRunner

import videostar.models
from videostar.cli import app
from videostar.config import EvalConfig
from videostar.data.manifest import load_manifest
from videostar.eval.evaluate import evaluate
from videostar.models import load_backend
from videostar.verify.verifier import Verifier
from videostar.video.sampling import FrameSampling

TASKS = ("motion direction", "color choice", "object counting")


@pytest.fixture
def toy_with_corrupt_video(tmp_path, toy_manifest):
    """12 samples (3 tasks x 4 videos) of the toy set; the 4th video's samples point to a corrupt file."""
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42 not really a video" * 50)
    samples = [s for s in load_manifest(toy_manifest) if s.task in TASKS]
    samples = [s.model_copy(update={"video": str(corrupt)}) if s.id.startswith("toy_00003") else s for s in samples]
    manifest = tmp_path / "eval.jsonl"
    manifest.write_text("".join(json.dumps(s.model_dump(mode="json")) + "\n" for s in samples))
    return manifest, sorted(s.id for s in samples if s.video == str(corrupt))


@pytest.mark.slow
def test_ray_eval_equals_in_process_eval_and_the_driver_loads_no_model(tmp_path, tiny_model, toy_with_corrupt_video,
                                                                       monkeypatch):
    manifest, corrupt_ids = toy_with_corrupt_video
    model = EvalConfig.model_validate({"model": {"path": str(tiny_model), "device": "cpu"}, "manifest": manifest}).model
    local = evaluate(load_backend(model), load_manifest(manifest), FrameSampling(num_frames=4), Verifier(),
                     max_new_tokens=6, batch_size=4)

    def no_model_in_the_driver(config):
        raise AssertionError("the driver loaded the model")

    monkeypatch.setattr(videostar.models, "load_backend", no_model_in_the_driver)  # Ray's actors import their own
    out = tmp_path / "ray.json"
    result = CliRunner().invoke(app, ["eval", "--engine", "ray", "--manifest", str(manifest), "--model", str(tiny_model),
                                      "--frames", "4", "--max-new-tokens", "6", "--batch-size", "4", "--out", str(out),
                                      "model.device=cpu", "ray.num_cpus=2"])
    assert result.exit_code == 0, result.output
    on_ray = json.loads(out.read_text())
    assert on_ray == json.loads(json.dumps(local))
    # what was compared: every task with real, swapped and grounded columns; the corrupt video's samples skipped
    assert sorted(on_ray["tasks"]) == sorted(TASKS)
    for row in on_ray["tasks"].values():
        assert row["n"] == 3 and {"open", "open_swapped", "open_grounded", "mc", "mc_swapped", "mc_grounded"} <= set(row)
    assert sorted(s["sample"] for s in on_ray["skipped"]) == corrupt_ids and len(corrupt_ids) == 3
    assert on_ray["examples"] and all(e["answer"] is not None for e in on_ray["examples"])


@pytest.mark.slow
def test_ray_eval_of_a_served_model_reading_the_frames_equals_in_process_eval(tmp_path, two_clips):
    """The OpenAI-compatible backend against a local HTTP server on 127.0.0.1 (standing in for a
    remote model server), called from Ray's model actors: non-zero, grounded accuracies, and a sample
    on a corrupt video listed once (not again for the swapped prompt that was shown its clip)."""
    manifest, _ = two_clips
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"not a video" * 100)
    with manifest.open("a") as f:
        f.write(json.dumps({"id": "third", "video": str(corrupt), "task": "color",
                            "labels": [{"type": "class", "value": "white", "name": "color"}]}) + "\n")
    with local_openai_server() as (url, bodies):
        config = EvalConfig.model_validate({"model": {"backend": "openai", "path": "served", "base_url": url},
                                            "manifest": manifest})
        local = evaluate(load_backend(config.model), load_manifest(manifest), FrameSampling(num_frames=4), Verifier(),
                         batch_size=2)
        asked_locally = len(bodies)
        out = tmp_path / "ray.json"
        result = CliRunner().invoke(app, ["eval", "--engine", "ray", "--manifest", str(manifest), "--frames", "4",
                                          "--batch-size", "2", "--out", str(out), "model.backend=openai",
                                          "model.path=served", f"model.base_url={url}", "ray.num_cpus=2"])
    assert result.exit_code == 0, result.output
    on_ray = json.loads(out.read_text())
    assert on_ray == json.loads(json.dumps(local))
    assert len(bodies) == 2 * asked_locally  # every request once more, from the model actor
    assert on_ray["tasks"]["color"]["open"] == 100.0 and on_ray["tasks"]["color"]["open_grounded"] > 0
    assert [s["sample"] for s in on_ray["skipped"]] == ["third"]
