"""`videostar toy pretrain OUT`: the demo's small base video LLM, trained from scratch on CPU.

Renders its own toy videos (a seed no demo set uses), builds general instructions (instructions.py),
fits a byte-level BPE tokenizer to their text, builds a small Qwen2-VL (about a million parameters)
and trains it with the same SFT path as the Video-STaR loop, full fine-tuning, a fixed number of
steps so the result is deterministic for a seed. The recipe is what made the model SEE in
benchmarks/toy_recipe_probe.py (issue 17; the earlier recipe left colour near and count at chance
with swapped videos): 4 key/value heads instead of 1, short answers first (direct and multiple
choice only for the first 40% of steps, so the only way to lower the loss is to read the video
before long responses let the language prior win), then every form with a cosine decay; a warmup
in both phases. OUT receives the model, its processor and PRETRAIN.json (the exact command, the
settings and the loss curve of each phase).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from videostar.atomic import atomic_dir, write_json, write_jsonl
from videostar.models.tiny import TinyModelSpec, build_tiny_model
from videostar.prompts import Prompts
from videostar.toyworld.instructions import VOCABULARY, general_examples
from videostar.toyworld.scenes import FPS, render, sample_scene
from videostar.video.encode import write_video
from videostar.video.sampling import FrameSampling

SHORT_FORMS = ("direct", "mc")
PRETRAIN_SEED_OFFSET = 1_000_003  # pretraining videos never coincide with demo sets (seeds 0..999)
DEMO_MODEL = TinyModelSpec(vocab_size=1200, hidden_size=128, layers=4, heads=4, kv_heads=4, vision_depth=2,
                           vision_embed=64, patch_size=8, temporal_patch_size=2, merge_size=2, min_pixels=64 * 64, max_pixels=64 * 64)
DEMO_FRAMES = FrameSampling(num_frames=8)


class PretrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    videos: int = Field(1500, ge=10)
    steps: int = Field(4000, ge=1)
    batch_size: int = Field(32, ge=1)
    learning_rate: float = 2e-3
    short_first: float = Field(0.4, ge=0, lt=1, description="share of the steps trained on short answers only, first")
    warmup_steps: int = Field(50, ge=0, description="linear warmup at the start of each phase")
    seed: int = 0
    spec: TinyModelSpec = DEMO_MODEL


def build_instructions(work: Path, config: PretrainConfig) -> tuple[Path, list[str]]:
    """Render the pretraining videos and write the instruction JSONL (and its short-answer part,
    short.jsonl, beside it); returns it and all its text."""
    rng = np.random.default_rng(config.seed)
    prompts = Prompts()
    rows, texts = [], [" ".join(VOCABULARY)]
    for index in range(config.videos):
        scene = sample_scene(np.random.default_rng([config.seed + PRETRAIN_SEED_OFFSET, index]))
        video = write_video(work / "videos" / f"pre_{index:05d}.mp4", render(scene), fps=FPS)
        for example in general_examples(scene, rng, prompts):
            rows.append({**example, "video": str(video), "frame_sampling": DEMO_FRAMES.model_dump(mode="json")})
            texts += [example["prompt"], example["response"]]
    data = work / "instructions.jsonl"
    write_jsonl(data, rows)
    write_jsonl(work / "short.jsonl", [row for row in rows if row["form"] in SHORT_FORMS])
    return data, texts


def pretrain(out: str | Path, config: PretrainConfig, work: str | Path | None = None) -> dict:
    """Build and train the base model into ``out``; returns the record written to PRETRAIN.json."""
    from videostar.train.trainers import TrainConfig, train_sft

    out = Path(out)
    work = Path(work) if work else Path(tempfile.mkdtemp(prefix="videostar-pretrain-"))
    started = time.time()
    data, texts = build_instructions(work, config)
    model = build_tiny_model(work / "init", config.spec.model_copy(update={"seed": config.seed}), corpus=texts)
    short_steps = round(config.steps * config.short_first)
    phases = [("short answers", work / "short.jsonl", short_steps, "constant_with_warmup"),
              ("all forms", data, config.steps - short_steps, "cosine")]
    losses = {}
    for name, rows, steps, schedule in phases:
        if steps <= 0:
            continue
        result = train_sft(TrainConfig(
            model=str(model), data=rows, output_dir=work / f"train-{name.replace(' ', '-')}", frames=DEMO_FRAMES,
            lora=None, learning_rate=config.learning_rate, lr_scheduler=schedule, warmup_steps=config.warmup_steps,
            max_steps=steps, batch_size=config.batch_size, logging_steps=50, save_steps=10**9, seed=config.seed,
            device="cpu"))
        model, losses[name] = result.model_dir, result.losses
    with atomic_dir(out) as tmp:
        shutil.copytree(model, tmp, dirs_exist_ok=True, ignore=shutil.ignore_patterns("training_args.bin"))
    record = {
        "command": "videostar toy pretrain " + " ".join(sys.argv[3:]) if sys.argv[1:3] == ["toy", "pretrain"]
        else f"videostar toy pretrain {out} --videos {config.videos} --steps {config.steps} --seed {config.seed}",
        "config": config.model_dump(mode="json"),
        "instructions": sum(1 for _ in data.open()),
        "parameters": _count_parameters(out),
        "losses": losses,
        "minutes": round((time.time() - started) / 60, 1),
    }
    write_json(out / "PRETRAIN.json", record)
    return record


def _count_parameters(path: Path) -> int:
    from safetensors import safe_open

    with safe_open(str(path / "model.safetensors"), "pt") as f:
        return int(sum(np.prod(f.get_slice(k).get_shape()) for k in f.keys()))
