"""`videostar grpo --config C key=value ...`: overrides, refusing to restart a run, clear errors."""

import json

import pytest
import yaml
from typer.testing import CliRunner

from videostar.cli import app

runner = CliRunner()


def _write_config(tmp_path, manifest, **fields):
    from videostar.demo import BASE_MODEL

    config = {"model": str(BASE_MODEL), "manifest": str(manifest), "output_dir": str(tmp_path / "run"),
              "frames": {"num_frames": 8}, "lora": None, "device": "cpu", "max_completion_length": 8, **fields}
    path = tmp_path / "grpo.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_bad_override_and_bad_field_are_reported_without_traceback(tmp_path, toy_manifest):
    path = _write_config(tmp_path, toy_manifest)
    result = runner.invoke(app, ["grpo", "--config", str(path), "steps"])
    assert result.exit_code == 1 and "override 'steps': expected dotted.key=value" in result.output
    result = runner.invoke(app, ["grpo", "--config", str(path), "group_size=1", "reward.weights={colour: 2}"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"{path}: group_size:" in result.output and f"{path}: reward.weights:" in result.output


def test_an_existing_run_needs_resume(tmp_path, toy_manifest):
    path = _write_config(tmp_path, toy_manifest)
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "rollouts.sqlite").write_bytes(b"")
    result = runner.invoke(app, ["grpo", "--config", str(path)])
    assert result.exit_code == 1 and "already holds a GRPO run: pass --resume" in result.output


@pytest.mark.slow
def test_one_step_through_the_command_line_with_dotted_overrides(tmp_path, toy_manifest):
    path = _write_config(tmp_path, toy_manifest, steps=5, group_size=4)
    result = runner.invoke(app, ["grpo", "--config", str(path), "steps=1", "group_size=2", "batch_size=1",
                                 "tasks=[motion direction]", "reward.format_weight=0.5"])
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "run" / "grpo_config.json").read_text())
    assert (saved["steps"], saved["group_size"], saved["reward"]["format_weight"]) == (1, 2, 0.5)
    from videostar.rl.ledger import RolloutLedger

    with RolloutLedger(tmp_path / "run") as ledger:
        rows = ledger.examples(1, limit=10)
    assert len(rows) == 2 and {r["task"] for r in rows} == {"motion direction"}
    assert "reward" in result.output and (tmp_path / "run" / "final" / "config.json").exists()
