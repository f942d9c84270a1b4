import json
import os
import signal
import subprocess
import sys
import time

import pytest
from helpers import ScriptedBackend
from typer.testing import CliRunner

from videostar.cli import app
from videostar.config import GenerateConfig
from videostar.star.loop import StarConfig, StarLoop
from videostar.toyworld.dataset import make_toy_dataset

runner = CliRunner()


def _config(tmp_path, manifest, model, **extra):
    generate = GenerateConfig.model_validate({
        "model": {"path": str(model), "device": "cpu"}, "manifest": str(manifest), "run_dir": str(tmp_path / "run"),
        "sampling": {"max_new_tokens": 8}, "batch_size": 16})
    return StarConfig(generate=generate, train={"max_steps": 3, "batch_size": 4, "learning_rate": 5e-3,
                                                "lora": None, "save_steps": 1000}, **extra)


@pytest.mark.slow
def test_two_cycles_with_scripted_generation_train_on_the_union(tmp_path, toy_manifest, tiny_model):
    loaded = []

    def load_backend(model_config):
        loaded.append(model_config.path)
        return ScriptedBackend()

    history = StarLoop(_config(tmp_path, toy_manifest, tiny_model, cycles=2), load_backend=load_backend).run()
    assert len(history) == 2
    assert loaded[0] == str(tiny_model) and loaded[1] == history[0]["model"] != str(tiny_model)
    rows = [sum(1 for _ in (tmp_path / "run" / f"cycle_{k}" / "train.jsonl").open()) for k in range(2)]
    assert rows[1] == 2 * rows[0] > 0  # every question kept each cycle; cycle 1 trains on both cycles' data
    for k in range(2):
        metrics = json.loads((tmp_path / "run" / f"cycle_{k}" / "metrics.json").read_text())
        assert metrics["train_losses"] and metrics["yield"]["motion direction"]["questions"] == 4
    assert json.loads((tmp_path / "run" / "star_summary.json").read_text())[1]["cycle"] == 1
    from videostar.report import write_report

    page = write_report(tmp_path / "run").read_text()  # the report works on a plain loop run too
    assert "Yield per cycle" in page and "Example generations" in page and "Held-out accuracy" not in page
    # a finished loop reruns as a no-op: nothing generated or trained again
    again = StarLoop(_config(tmp_path, toy_manifest, tiny_model, cycles=2), load_backend=load_backend).run()
    assert len(loaded) == 2 and [m["model"] for m in again] == [m["model"] for m in history]


@pytest.mark.slow
def test_star_cli_two_cycles_killed_and_resumed(tmp_path, tiny_model):
    manifest = make_toy_dataset(tmp_path / "toy", n=6, seed=2, tasks=["motion direction", "object counting"])
    config = tmp_path / "star.yaml"
    config.write_text(
        f"generate:\n  model: {{path: {tiny_model}, device: cpu}}\n  manifest: {manifest}\n  run_dir: {tmp_path / 'run'}\n"
        "  sampling: {max_new_tokens: 8}\n  batch_size: 4\n"
        "train: {max_steps: 2, batch_size: 2, learning_rate: 0.005, lora: null, save_steps: 1000}\ncycles: 2\n")
    process = subprocess.Popen([sys.executable, "-m", "videostar.cli", "star", "--config", str(config)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    state_file = tmp_path / "run" / "star_state.json"
    deadline = time.time() + 120
    while time.time() < deadline and not state_file.exists():
        assert process.poll() is None, process.stderr.read().decode()[-2000:]
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)  # killed right after cycle 0's generation was recorded
    process.wait()
    first = json.loads(state_file.read_text())
    assert "yield" in first["rounds"][0]["generated"]
    ledger_rows = _rows(tmp_path / "run" / "cycle_0" / "generate" / "ledger.sqlite")
    refused = runner.invoke(app, ["star", "--config", str(config)])
    assert refused.exit_code == 1 and "--resume" in refused.output
    resumed = runner.invoke(app, ["star", "--config", str(config), "--resume"])
    assert resumed.exit_code == 0, resumed.output
    state = json.loads(state_file.read_text())
    assert len(state["rounds"]) == 2 and all("model" in r["trained"] for r in state["rounds"])
    assert state["rounds"][0]["generated"] == first["rounds"][0]["generated"]  # cycle 0 was not generated again
    assert _rows(tmp_path / "run" / "cycle_0" / "generate" / "ledger.sqlite") == ledger_rows
    assert "cycle 0:" in resumed.output and "cycle 1:" in resumed.output


def _rows(db):
    import sqlite3

    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT COUNT(*), MAX(id) FROM generations").fetchone()


def test_grpo_settings_may_not_redefine_the_loops_frames(tmp_path, toy_manifest, tiny_model):
    with pytest.raises(ValueError, match="grpo: frames come from generate"):
        _config(tmp_path, toy_manifest, tiny_model, rl="grpo", grpo={"frames": {"num_frames": 4}})


@pytest.mark.slow
def test_star_with_rl_grpo_sharpens_each_cycles_model_and_generates_with_it(tmp_path, tiny_model):
    manifest = make_toy_dataset(tmp_path / "toy", n=2, seed=3, tasks=["motion direction"])
    loaded = []

    def load_backend(model_config):
        loaded.append(model_config.path)
        return ScriptedBackend()

    config = _config(tmp_path, manifest, tiny_model, cycles=2, rl="grpo",
                     grpo={"steps": 1, "group_size": 2, "batch_size": 2, "max_completion_length": 4, "lora": None,
                           "save_steps": 1000, "device": "cpu"})
    history = StarLoop(config, load_backend=load_backend).run()
    first = history[0]
    assert first["sft_model"] == str(tmp_path / "run" / "cycle_0" / "model" / "final")
    assert first["model"] == str(tmp_path / "run" / "cycle_0" / "grpo" / "final") and first["grpo_steps"] == 1
    assert len(first["grpo_rewards"]) == 1 and 0.0 <= first["grpo_rewards"][0] <= 1.2
    assert loaded == [str(tiny_model), first["model"]]  # cycle 1 generates with cycle 0's GRPO model
    from videostar.rl.ledger import RolloutLedger

    with RolloutLedger(tmp_path / "run" / "cycle_0" / "grpo") as rollouts:
        assert rollouts.count() == 4  # 1 step x 2 prompts x a group of 2, each recorded


def test_keeping_every_answer_leaves_nothing_to_rationalize(tmp_path, toy_manifest, tiny_model):
    with pytest.raises(ValueError, match="nothing is left to rationalize"):
        _config(tmp_path, toy_manifest, tiny_model, keep="all")
    generate = _config(tmp_path, toy_manifest, tiny_model).generate.model_copy(update={"steps": ["answer"]})
    assert StarConfig(generate=generate, keep="all").keep == "all"
