"""Several processes: `accelerate launch` with 2 CPU processes (torchrun + gloo) trains one model
and writes one merged model; the 8-GPU example config validates."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from videostar.data.manifest import load_manifest
from videostar.models.hf import load_processor_and_model
from videostar.train.trainers import TrainConfig

EXAMPLE = Path(__file__).parents[2] / "examples" / "configs" / "train_sft_8gpu.yaml"


def test_the_8gpu_example_config_loads():
    config = TrainConfig.model_validate(yaml.safe_load(EXAMPLE.read_text()))
    assert config.lora is not None and config.lora.target_modules is None and not config.lora.vision
    assert EXAMPLE.read_text().startswith("# accelerate launch --num_processes 8 -m videostar.cli train sft")


@pytest.mark.slow
def test_two_processes_train_one_model(tmp_path, tiny_model, toy_manifest):
    rows = [{"video": s.video, "prompt": "What?", "response": s.labels[0].render(), "frame_sampling": {"num_frames": 8}}
            for s in load_manifest(toy_manifest)[:8]]
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = {"model": str(tiny_model), "data": str(tmp_path / "rows.jsonl"), "output_dir": str(tmp_path / "out"),
              "max_steps": 2, "batch_size": 2, "lora": {"r": 4, "alpha": 8}, "device": "cpu", "save_steps": 1000}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    accelerate = Path(sys.executable).with_name("accelerate")
    # --multi_gpu selects accelerate's torchrun launcher; without CUDA it runs gloo on the CPU.
    command = [str(accelerate), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
               "--mixed_precision", "no", "--dynamo_backend", "no", "-m", "videostar.cli", "train", "sft",
               "--config", str(tmp_path / "config.yaml")]
    root = str(Path(__file__).parents[2])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("sft: 2 steps") == 2  # both ranks ran the same 2 steps
    metrics = json.loads((tmp_path / "out" / "train_metrics.json").read_text())
    assert metrics["log"][-1]["epoch"] == 1.0  # 2 steps x 2 rows x 2 processes = the 8 rows once
    _, merged = load_processor_and_model(str(tmp_path / "out" / "merged"), device="cpu")
    assert not any("lora" in n for n, _ in merged.named_parameters())
