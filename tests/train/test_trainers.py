import json

from videostar.data.manifest import load_manifest
from videostar.train.trainers import TrainConfig, train_sft


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
