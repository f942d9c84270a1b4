"""Which pretraining recipe gives the demo's base video LLM a model that SEES (issue 17).

Short, controlled probes: the same pretraining videos and instructions as `videostar toy pretrain`
(toyworld/pretrain.py), the same collator, the same held-out toy scenes, scored by the demo's
video-grounded evaluation (`videostar.eval.evaluate`, real / swapped / grounded per task). A plain
training loop (AdamW, per-group learning rates) stands in for the Trainer so each factor can be
switched alone: weight decay, key/value heads, a lower learning rate for the vision tower, the
instruction mix, the learning-rate schedule.

    python benchmarks/toy_recipe_probe.py prepare WORK [--videos 1500]
    python benchmarks/toy_recipe_probe.py train WORK NAME [--device cuda]     # one probe of PROBES
    python benchmarks/toy_recipe_probe.py collect WORK OUT.json

The results in benchmarks/results/toy_recipe_probe.json were measured at commit 09044c1, when the
instructions still held "copy practice" (rationalizing arbitrary toy phrases; the mixes other than
"all" dropped it); pretrain.py now uses the kv4_short_cos recipe and has no copy practice.
The issue-17 session ran (2 CPU cores shared with other jobs, so each probe was stopped by --minutes):
    python benchmarks/toy_recipe_probe.py prepare /tmp/p17/work --videos 1500 --held-out 80
    python benchmarks/toy_recipe_probe.py train /tmp/p17/work NAME --steps 400 --minutes 20   # NAME: baseline, kv4_short_cos
    python benchmarks/toy_recipe_probe.py train /tmp/p17/work NAME --steps 400 --minutes 10   # short_first, kv4 (stopped early)
    python benchmarks/toy_recipe_probe.py collect /tmp/p17/work benchmarks/results/toy_recipe_probe.json
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np

from videostar.toyworld.pretrain import SHORT_FORMS

HELD_OUT_SEED = 4242  # fresh scenes no pretraining or demo set uses
HELD_OUT_VIDEOS = 120
BASE = dict(steps=2400, lr=2e-3, weight_decay=0.0, kv_heads=1, vision_lr=1.0, mix="all", schedule="constant",
            warmup=0, batch=32)
PROBES = {
    "baseline": {},  # the recipe of the base before this probe (pretrain.py at 09044c1)
    "short_first": dict(mix="short_first"),
    "kv4": dict(kv_heads=4),
    "wd0.1": dict(weight_decay=0.1),
    "vision_lr0.1": dict(vision_lr=0.1),
    "cosine": dict(schedule="cosine", warmup=50),
    "kv4_short_cos": dict(kv_heads=4, mix="short_first", schedule="cosine", warmup=50),
    "combo": dict(weight_decay=0.1, kv_heads=4, mix="short_first", schedule="cosine", warmup=50),
}


def prepare(work: Path, videos: int, held_out: int = HELD_OUT_VIDEOS) -> None:
    """Pretraining videos + instructions (exactly pretrain.py's) and the held-out set, once."""
    from videostar.toyworld.dataset import make_toy_dataset
    from videostar.toyworld.instructions import GENERAL_TASKS
    from videostar.toyworld.pretrain import PretrainConfig, build_instructions

    _, texts = build_instructions(work, PretrainConfig(videos=videos))
    (work / "texts.json").write_text(json.dumps(texts))
    from videostar.toyworld.pretrain import DEMO_FRAMES
    from videostar.train.collators import FrameLoader

    loader = FrameLoader(DEMO_FRAMES, work / "frames")  # decoded once here; probes only read the cache
    for video in sorted((work / "videos").glob("*.mp4")):
        loader({"video": str(video)})
    make_toy_dataset(work / "held_out", held_out, seed=HELD_OUT_SEED, tasks=GENERAL_TASKS, split="test",
                     labeler="demo")


def _schedule(s: dict):
    def factor(step: int) -> float:
        warm = min(1.0, (step + 1) / s["warmup"]) if s["warmup"] else 1.0
        if s["schedule"] == "cosine":
            return warm * 0.5 * (1 + math.cos(math.pi * min(step, s["steps"]) / s["steps"]))
        return warm
    return factor


def _rows_for(step: int, s: dict, rows: list[dict]) -> list[dict]:
    """The instruction pool at ``step``: all, or short answers only for the first 40% of steps."""
    if s["mix"] == "short_first" and step < 0.4 * s["steps"]:
        return [r for r in rows if r["form"] in SHORT_FORMS]
    return rows


def train(work: Path, name: str, device: str, steps: int | None = None, deadline: float = 0) -> dict:
    from videostar.compat import ensure_torchvision_importable

    ensure_torchvision_importable()
    import torch

    from videostar.data.manifest import load_manifest
    from videostar.eval.evaluate import evaluate
    from videostar.models.hf import HFBackend, load_processor_and_model
    from videostar.models.tiny import build_tiny_model
    from videostar.toyworld.pretrain import DEMO_FRAMES, DEMO_MODEL
    from videostar.train.collators import FrameLoader, VideoSFTCollator

    s = {**BASE, **PROBES[name]}
    s["steps"] = steps or s["steps"]
    out = work / "probes" / name
    torch.manual_seed(0)
    init = build_tiny_model(out / "init", DEMO_MODEL.model_copy(update={"kv_heads": s["kv_heads"]}),
                            corpus=json.loads((work / "texts.json").read_text()))
    processor, model = load_processor_and_model(str(init), device=device)
    model.train()
    rows = [json.loads(line) for line in (work / "instructions.jsonl").open()]
    loader = FrameLoader(DEMO_FRAMES, work / "frames")
    frames = {r["video"]: loader(r) for r in rows}
    collate = VideoSFTCollator(processor, lambda r: frames[r["video"]])
    groups = {"vision": [], "decay": [], "no_decay": []}
    for pname, p in model.named_parameters():
        key = "vision" if "visual" in pname else ("decay" if p.dim() >= 2 else "no_decay")
        groups[key].append(p)
    opt = torch.optim.AdamW([
        {"params": groups["decay"], "weight_decay": s["weight_decay"], "lr": s["lr"]},
        {"params": groups["no_decay"], "weight_decay": 0.0, "lr": s["lr"]},
        {"params": groups["vision"], "weight_decay": s["weight_decay"], "lr": s["lr"] * s["vision_lr"]},
    ])
    sched = torch.optim.lr_scheduler.LambdaLR(opt, _schedule(s))
    rng = np.random.default_rng(0)
    losses, started = [], time.time()
    for step in range(s["steps"]):
        if deadline and time.time() > deadline:
            s["stopped_at"] = step  # out of time: the record says so
            break
        pool = _rows_for(step, s, rows)
        batch = collate([pool[i] for i in rng.integers(0, len(pool), s["batch"])])
        loss = model(**{k: v.to(model.device) for k, v in batch.items()}).loss
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
    train_seconds = time.time() - started
    model.save_pretrained(out / "model")
    processor.save_pretrained(out / "model")
    model.eval()
    with torch.no_grad():
        vision_norm = _vision_norm(model, processor, [frames[r["video"]].array for r in rows[:64:10]])
    del model
    backend = HFBackend(str(out / "model"), device=device, batch_size=64)
    result = evaluate(backend, load_manifest(work / "held_out" / "manifest.jsonl"), DEMO_FRAMES,
                      cache_dir=out / "frames", swapped=True)
    record = {"name": name, "settings": s, "train_seconds": round(train_seconds, 1), "device": device,
              "loss_per_100": [round(float(np.mean(losses[i:i + 100])), 3) for i in range(0, len(losses), 100)],
              "vision_output_norm": vision_norm,
              "tasks": {task: {k: v for k, v in row.items() if k != "n"} for task, row in result["tasks"].items()},
              "open": result["open"], "open_swapped": result.get("open_swapped"), "mc": result["mc"],
              "mc_swapped": result.get("mc_swapped"), "examples": result.get("examples", [])[:2]}
    (out / "result.json").write_text(json.dumps(record, indent=1))
    return record


def _vision_norm(model, processor, videos) -> float:
    """Mean norm of the vision tower's output tokens (the committed base: ~434; text embeddings ~0.4)."""
    import torch

    batch = processor.video_processor(videos=videos, return_tensors="pt")
    feats = model.model.get_video_features(pixel_values_videos=batch["pixel_values_videos"].to(model.device),
                                           video_grid_thw=batch["video_grid_thw"].to(model.device))
    feats = getattr(feats, "pooler_output", feats)
    feats = torch.cat(list(feats)) if isinstance(feats, (list, tuple)) else feats
    return round(float(feats.norm(dim=-1).mean()), 2)


def collect(work: Path, out: Path) -> None:
    records = [json.loads(p.read_text()) for p in sorted((work / "probes").glob("*/result.json"))]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(records, indent=1))
    for r in records:
        t = r["tasks"]
        print(r["name"], r["settings"]["steps"], r["train_seconds"], *(
            f"{task}: {t[task]['open']}/{t[task].get('open_swapped')} mc {t[task]['mc']}/{t[task].get('mc_swapped')}"
            for task in t))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["prepare", "train", "collect"])
    parser.add_argument("work", type=Path)
    parser.add_argument("name", nargs="?")
    parser.add_argument("--videos", type=int, default=1500)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--held-out", type=int, default=HELD_OUT_VIDEOS)
    parser.add_argument("--minutes", type=float, default=0, help="stop training after this long (0: no limit)")
    parser.add_argument("--steps", type=int, default=None, help="override the probe's steps (smoke runs)")
    args = parser.parse_args()
    if args.action == "prepare":
        prepare(args.work, args.videos, args.held_out)
    elif args.action == "train":
        print(json.dumps(train(args.work, args.name, args.device, args.steps, time.time() + 60 * args.minutes if args.minutes else 0))[:2000])
    else:
        collect(args.work, Path(args.name))


if __name__ == "__main__":
    main()
