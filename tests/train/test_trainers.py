import json

import torch

from videostar.data.manifest import load_manifest
from videostar.models.hf import load_processor_and_model
from videostar.train.trainers import LoraSettings, TrainConfig, train_sft


def _rows(toy_manifest, path):
    samples = [s for s in load_manifest(toy_manifest) if s.task == "motion direction"]
    rows = [{"video": s.video, "prompt": "Which direction does the big object move?", "response": s.labels[0].render(),
             "frame_sampling": {"num_frames": 8}} for s in samples]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_loss_decreases_on_a_fixed_toy_batch(tmp_path, tiny_model, toy_manifest):
    data = _rows(toy_manifest, tmp_path / "sft.jsonl")
    result = train_sft(TrainConfig(model=str(tiny_model), data=data, output_dir=tmp_path / "out", lora=None,
                                   max_steps=15, batch_size=4, learning_rate=5e-3, save_steps=1000))
    assert len(result.losses) == 15
    assert sum(result.losses[-3:]) / 3 < 0.5 * sum(result.losses[:3]) / 3
    assert (tmp_path / "out" / "final" / "model.safetensors").exists()


def test_lora_adapter_merges_into_a_standalone_model(tmp_path, tiny_model, toy_manifest):
    data = _rows(toy_manifest, tmp_path / "sft.jsonl")
    result = train_sft(TrainConfig(model=str(tiny_model), data=data, output_dir=tmp_path / "out", max_steps=5,
                                   batch_size=2, learning_rate=1e-2, save_steps=1000, lora=LoraSettings(r=4, alpha=8)))
    assert result.model_dir == tmp_path / "out" / "merged"
    assert (tmp_path / "out" / "final" / "adapter_config.json").exists()
    _, base = load_processor_and_model(str(tiny_model), device="cpu")
    _, merged = load_processor_and_model(str(result.model_dir), device="cpu")
    assert not any("lora" in name for name, _ in merged.named_parameters())
    base_params, merged_params = dict(base.named_parameters()), dict(merged.named_parameters())
    changed = [n for n in base_params if not torch.equal(base_params[n], merged_params[n])]
    assert changed and all(any(p in n for p in ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                                                 "down_proj")) for n in changed)
    assert not any("visual" in n for n in changed)  # the vision tower is untouched by the LM LoRA


def test_train_sft_command(tmp_path, tiny_model, toy_manifest):
    from typer.testing import CliRunner

    from videostar.cli import app

    data = _rows(toy_manifest, tmp_path / "sft.jsonl")
    result = CliRunner().invoke(app, ["train", "sft", "--model", str(tiny_model), "--data", str(data), "--output-dir",
                                      str(tmp_path / "out"), "--max-steps", "2", "--full"])
    assert result.exit_code == 0, result.output
    assert "sft: 2 steps, loss" in result.output and str(tmp_path / "out" / "final") in result.output
    missing = CliRunner().invoke(app, ["train", "sft", "--model", str(tiny_model), "--output-dir", str(tmp_path)])
    assert missing.exit_code == 1 and "data" in missing.output
