"""`videostar eval --config`: any backend (here the OpenAI-compatible one, against a small local HTTP
server on 127.0.0.1), with the frame sampling and prompts a run recorded; exports use them too."""

from __future__ import annotations

import json

import yaml
from helpers import decode_request_frames, local_openai_server
from typer.testing import CliRunner

from videostar.cli import app

runner = CliRunner()


def test_eval_config_through_openai_backend_local_http_server(tmp_path, two_clips):
    manifest, _ = two_clips
    with local_openai_server() as (url, bodies):
        config = tmp_path / "eval.yaml"
        config.write_text(yaml.safe_dump({"model": {"backend": "openai", "path": "served", "base_url": url},
                                          "manifest": str(manifest), "out": str(tmp_path / "eval.json"),
                                          "frames": {"num_frames": 4}}))
        result = runner.invoke(app, ["eval", "--config", str(config)])
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "eval.json").read_text())
    # the server answers from the frames it decodes: swapping the two clips flips every answer
    assert saved["tasks"]["color"] == {"n": 2, "majority": 50.0, "open": 100.0, "open_swapped": 0.0,
                                       "open_grounded": 100.0, "mc": 100.0, "mc_swapped": 0.0, "mc_grounded": 100.0}
    assert saved["skipped"] == []
    assert "color" in result.output and "100.0" in result.output and "50.0" in result.output
    assert len(bodies) == 8 and all(len(decode_request_frames(b["messages"][0]["content"])) == 4 for b in bodies)


def test_eval_and_export_use_the_frames_and_prompts_the_run_recorded(tmp_path, two_clips):
    manifest, _ = two_clips
    run = tmp_path / "run"
    with local_openai_server() as (url, bodies):
        model = ["model.backend=openai", "model.path=served", f"model.base_url={url}"]
        generated = runner.invoke(app, ["generate", "--manifest", str(manifest), "--run-dir", str(run), *model,
                                        "frames.num_frames=3", "prompts.answer='{question} Look closely (custom).'"])
        assert generated.exit_code == 0, generated.output
        bodies.clear()
        result = runner.invoke(app, ["eval", "--manifest", str(manifest), "--run-dir", str(run), *model,
                                     "--out", str(tmp_path / "eval.json"), "modes=[open]", "swapped=false"])
    assert result.exit_code == 0, result.output
    assert len(bodies) == 2
    for body in bodies:  # the run's 3 frames and its answer prompt, not the defaults (8 frames)
        content = body["messages"][0]["content"]
        assert len(decode_request_frames(content)) == 3 and "(custom)" in content[-1]["text"]
    exported = runner.invoke(app, ["export", str(run), str(tmp_path / "t.jsonl"), "--forms", "cot"])
    assert exported.exit_code == 0, exported.output
    rows = [json.loads(line) for line in (tmp_path / "t.jsonl").open()]
    assert rows and all("(custom)" in r["messages"][0]["content"][1]["text"] for r in rows)
