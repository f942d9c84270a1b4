"""Resuming restores exactly what was saved, and only complete checkpoints are resumed.

Each resume test reruns a damaged copy of an uninterrupted 6-step run (checkpoints every 2 steps) and
asserts the final weights equal the uninterrupted run's bit for bit (CPU training is deterministic).
"""

import errno
import json
import logging
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from videostar.data.manifest import load_manifest
from videostar.train.checkpoints import (MARKER, CheckpointError, is_complete, last_complete_checkpoint,
                                         load_full_checkpoint, mark_complete)
from videostar.train.trainers import LoraSettings, TrainConfig, train_sft

STEPS = dict(max_steps=6, save_steps=2, batch_size=2)


@pytest.fixture(scope="module")
def sft_data(toy_manifest, tmp_path_factory) -> Path:
    samples = [s for s in load_manifest(toy_manifest) if s.task == "motion direction"]
    path = tmp_path_factory.mktemp("sft") / "sft.jsonl"
    path.write_text("".join(json.dumps({"video": s.video, "prompt": "Which direction?", "response": s.labels[0].render(),
                                        "frame_sampling": {"num_frames": 8}}) + "\n" for s in samples))
    return path


def _config(tiny_model, data, out, lora) -> TrainConfig:
    return TrainConfig(model=str(tiny_model), data=data, output_dir=out, lora=lora, learning_rate=1e-2, **STEPS)


def _weights(out: Path) -> dict:
    final = out / "final"
    return load_file(final / ("adapter_model.safetensors" if (final / "adapter_config.json").exists()
                              else "model.safetensors"))


def _uninterrupted(tiny_model, data, out, lora):
    train_sft(_config(tiny_model, data, out, lora))
    return out, _weights(out)


@pytest.fixture(scope="module")
def full_run(tiny_model, sft_data, tmp_path_factory):
    return _uninterrupted(tiny_model, sft_data, tmp_path_factory.mktemp("full") / "out", None)


def _resume_damaged(run, tmp_path, tiny_model, data, damage, lora=None) -> dict:
    """Copy the finished run, undo what happened after the damage point, rerun, return the final weights."""
    out = tmp_path / "out"
    shutil.copytree(run, out)
    for name in ("final", "merged", "train_metrics.json"):
        path = out / name
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    damage(out)
    train_sft(_config(tiny_model, data, out, lora))
    return _weights(out)


def _assert_same(a: dict, b: dict):
    assert a.keys() == b.keys()
    assert [k for k in a if not torch.equal(a[k], b[k])] == []


def test_full_finetuning_resumes_the_saved_weights_exactly(full_run, tmp_path, tiny_model, sft_data):
    run, expected = full_run
    # A kill right after checkpoint-4: transformers 5.23 alone resumed from the base weights here.
    resumed = _resume_damaged(run, tmp_path, tiny_model, sft_data, lambda out: shutil.rmtree(out / "checkpoint-6"))
    _assert_same(resumed, expected)


def test_lora_resumes_the_saved_adapter_exactly(tiny_model, sft_data, tmp_path):
    lora = LoraSettings(r=4, alpha=8)
    run, expected = _uninterrupted(tiny_model, sft_data, tmp_path / "first", lora)
    assert any("lora_A" in k for k in expected)
    resumed = _resume_damaged(run, tmp_path, tiny_model, sft_data, lambda out: shutil.rmtree(out / "checkpoint-6"),
                              lora)
    _assert_same(resumed, expected)


def test_a_save_cut_short_is_set_aside_and_the_previous_checkpoint_resumed(full_run, tmp_path, tiny_model, sft_data,
                                                                           caplog):
    run, expected = full_run

    def cut_short(out):  # what a kill during checkpoint-6's save left: only config.json
        for path in (out / "checkpoint-6").iterdir():
            if path.name != "config.json":
                path.unlink()

    with caplog.at_level(logging.WARNING, logger="videostar.train.checkpoints"):
        resumed = _resume_damaged(run, tmp_path, tiny_model, sft_data, cut_short)
    _assert_same(resumed, expected)
    kept = tmp_path / "out" / "incomplete-checkpoint-6"
    assert sorted(p.name for p in kept.iterdir()) == ["config.json"]  # set aside, not deleted
    assert str(tmp_path / "out" / "checkpoint-6") in caplog.text and "incomplete" in caplog.text


KILL_DURING_SAVE = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from videostar.compat import ensure_torchvision_importable
    ensure_torchvision_importable()
    import transformers
    from videostar.train.trainers import LoraSettings, TrainConfig, train_sft

    def killed(self, output_dir):  # the model and optimizer are written, the rest never is
        if output_dir.endswith("checkpoint-4"):
            os.kill(os.getpid(), signal.SIGKILL)
        return save_rng_state(self, output_dir)

    save_rng_state = transformers.Trainer._save_rng_state
    transformers.Trainer._save_rng_state = killed
    train_sft(TrainConfig.model_validate_json(sys.argv[1]))
""")


@pytest.mark.slow
def test_kill_9_during_a_save_then_resume(full_run, tmp_path, tiny_model, sft_data):
    run, expected = full_run
    config = _config(tiny_model, sft_data, tmp_path / "out", None)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    killed = subprocess.run([sys.executable, "-c", KILL_DURING_SAVE, config.model_dump_json()], env=env,
                            capture_output=True, text=True, timeout=300)
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert (tmp_path / "out" / "checkpoint-4" / "optimizer.pt").exists()
    assert not (tmp_path / "out" / "checkpoint-4" / "trainer_state.json").exists()
    train_sft(config)
    _assert_same(_weights(tmp_path / "out"), expected)
    assert (tmp_path / "out" / "incomplete-checkpoint-4").is_dir()


def test_a_resume_that_restores_nothing_fails_loudly(full_run, tmp_path, tiny_model):
    from videostar.models.hf import load_processor_and_model

    checkpoint = tmp_path / "checkpoint-4"
    shutil.copytree(full_run[0] / "checkpoint-4", checkpoint)
    saved = load_file(checkpoint / "model.safetensors")
    save_file({f"renamed.{k}": v for k, v in saved.items()}, checkpoint / "model.safetensors")
    _, model = load_processor_and_model(str(tiny_model), device="cpu")
    with pytest.raises(CheckpointError, match="checkpoint-4: resuming restored 0 of"):
        load_full_checkpoint(model, checkpoint)


def _checkpoint(root: Path, step: int, marked: bool = True) -> Path:
    folder = root / f"checkpoint-{step}"
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"x" * 100)
    (folder / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    if marked:
        mark_complete(folder)
    return folder


def test_completeness_follows_the_marker_then_trainer_state(tmp_path):
    assert is_complete(_checkpoint(tmp_path, 2))
    truncated = _checkpoint(tmp_path, 4)
    (truncated / "model.safetensors").write_bytes(b"x" * 10)  # a file changed after the marker
    assert not is_complete(truncated)
    assert is_complete(_checkpoint(tmp_path, 6, marked=False))  # plain transformers: trainer_state.json last
    cut = _checkpoint(tmp_path, 8, marked=False)
    (cut / "trainer_state.json").write_text('{"global_st')
    assert not is_complete(cut)
    assert not (tmp_path / "checkpoint-8" / MARKER).exists()


def test_newest_complete_checkpoint_wins_and_newer_broken_ones_are_set_aside(tmp_path, caplog):
    _checkpoint(tmp_path, 2)
    _checkpoint(tmp_path, 10)
    (tmp_path / "checkpoint-10" / "trainer_state.json").unlink()
    (tmp_path / "checkpoint-12").mkdir()
    (tmp_path / "checkpoint-12" / "config.json").write_text("{}")
    (tmp_path / "incomplete-checkpoint-12").mkdir()  # set aside by an earlier resume
    with caplog.at_level(logging.WARNING, logger="videostar.train.checkpoints"):
        assert last_complete_checkpoint(tmp_path) == tmp_path / "checkpoint-2"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "checkpoint-2", "incomplete-checkpoint-10", "incomplete-checkpoint-12", "incomplete-checkpoint-12.2"]
    assert "checkpoint-12" in caplog.text and "checkpoint-10" in caplog.text
    assert last_complete_checkpoint(tmp_path / "nothing-here") is None


@pytest.mark.parametrize("arch", ["qwen2_vl", "qwen2_5_vl"])
def test_full_checkpoint_of_each_family_loads_back_exactly(arch, tmp_path):
    from videostar.models.hf import load_processor_and_model
    from videostar.models.tiny import TinyModelSpec, build_tiny_model

    base = build_tiny_model(tmp_path / "base", TinyModelSpec(arch=arch))
    _, trained = load_processor_and_model(str(base), device="cpu")
    with torch.no_grad():
        for param in trained.parameters():
            param.add_(1.0)
    trained.save_pretrained(tmp_path / "checkpoint-1")  # hub layout: model.layers.*, visual.*
    _, model = load_processor_and_model(str(base), device="cpu")
    load_full_checkpoint(model, tmp_path / "checkpoint-1")
    _assert_same(model.state_dict(), trained.state_dict())


def test_a_full_disk_during_a_checkpoint_names_it_and_the_rerun_resumes_cleanly(full_run, tmp_path, tiny_model,
                                                                                 sft_data, monkeypatch):
    from videostar.errors import OutputError

    run, expected = full_run
    config = _config(tiny_model, sft_data, tmp_path / "out", None)
    real_save = torch.save

    def full_disk(obj, path, *args, **kwargs):  # the optimizer state no longer fits at checkpoint-4
        if "checkpoint-4" in str(path):
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real_save(obj, path, *args, **kwargs)

    monkeypatch.setattr(torch, "save", full_disk)
    with pytest.raises(OutputError, match=r"checkpoint-4: cannot save: No space left on device"):
        train_sft(config)
    monkeypatch.setattr(torch, "save", real_save)
    train_sft(config)
    _assert_same(_weights(tmp_path / "out"), expected)
    assert (tmp_path / "out" / "incomplete-checkpoint-4").is_dir()
