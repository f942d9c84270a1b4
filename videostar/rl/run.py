"""`videostar grpo` / ``run_grpo(config)``: GRPO on a labeled manifest, resumable.

OUTPUT_DIR holds TRL's checkpoints (``checkpoint-N``), the rollout ledger (``rollouts.sqlite``),
``metrics.json`` (one entry per step: mean reward per label type, pass rate, completion length,
KL, loss), ``grpo_config.json``, and the final model (``final/``; with LoRA also ``merged/``).
Rerunning on the same OUTPUT_DIR resumes from the newest checkpoint: the ledger's rollouts of
steps after it are discarded and redone, so none is duplicated.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import Callable

from videostar.atomic import write_json
from videostar.data.manifest import Sample, load_manifest
from videostar.rl.config import GRPORunConfig
from videostar.train.trainers import TrainResult

METRICS_FILE = "metrics.json"
# TRL's per-step log keys kept in metrics.json, under shorter names.
_KEPT = {"reward": "reward", "kl": "kl", "loss": "loss", "completions/mean_length": "completion_length",
         "entropy": "entropy", "frac_reward_zero_std": "frac_reward_zero_std", "pass_rate": "pass_rate",
         "clip_ratio/region_mean": "clip_ratio"}


def select_samples(config: GRPORunConfig) -> list[Sample]:
    samples = load_manifest(config.manifest, allow_outside_root=config.allow_outside_root)
    chosen = [s for s in samples if (config.splits is None or s.split in config.splits)
              and (config.tasks is None or s.task in config.tasks) and s.labels]
    if config.max_samples:
        chosen = chosen[:config.max_samples]
    if not chosen:
        raise ValueError(f"{config.manifest}: no labeled samples in splits {config.splits} and tasks {config.tasks}")
    return chosen


def _use_vllm(config: GRPORunConfig) -> bool:
    if config.vllm.enabled != "auto":
        return bool(config.vllm.enabled)
    import torch

    return importlib.util.find_spec("vllm") is not None and torch.cuda.is_available()


def placeholder_token_ids(model_config) -> list[int]:
    """The ids that stand for image and video features in the model's input. A sampled one would no
    longer match the features when the completion is scored (the forward pass refuses it): TRL
    suppresses only the image placeholder, so generation here suppresses all of them."""
    names = ("image_token_id", "video_token_id", "image_token_index", "video_token_index")
    return sorted({value for name in names if isinstance(value := getattr(model_config, name, None), int)})


def grpo_args(config: GRPORunConfig, use_vllm: bool, suppress_tokens: list[int] | None = None):
    """TRL's GRPOConfig: one generation batch (batch_size prompts x group_size) per optimizer step,
    split into ``micro_batches`` forward/backward passes; ``suppress_tokens`` are never sampled."""
    from videostar.compat import ensure_torchvision_importable

    ensure_torchvision_importable()  # TRL imports transformers, which imports torchvision
    import torch
    from trl import GRPOConfig

    from videostar.train.trainers import _bf16

    rows = config.batch_size * config.group_size // config.micro_batches
    return GRPOConfig(
        output_dir=str(config.output_dir), per_device_train_batch_size=rows,
        gradient_accumulation_steps=config.micro_batches, steps_per_generation=config.micro_batches,
        num_generations=config.group_size, max_steps=config.steps,
        learning_rate=config.learning_rate, lr_scheduler_type="constant", beta=config.beta, epsilon=config.epsilon,
        num_iterations=config.iterations, loss_type=config.loss_type, scale_rewards=config.scale_rewards,
        max_completion_length=config.max_completion_length, temperature=config.temperature, top_p=config.top_p,
        logging_steps=1, save_steps=config.save_steps, save_total_limit=config.save_total_limit,
        report_to=config.report_to, seed=config.seed, data_seed=config.seed, bf16=_bf16(config.bf16),
        activation_checkpointing=config.gradient_checkpointing, remove_unused_columns=False,
        dataloader_num_workers=0, dataloader_pin_memory=torch.cuda.is_available(), disable_tqdm=False,
        use_vllm=use_vllm, vllm_mode=config.vllm.mode, vllm_gpu_memory_utilization=config.vllm.gpu_memory_utilization,
        vllm_enable_sleep_mode=config.vllm.enable_sleep_mode, log_completions=False,
        # vLLM's SamplingParams takes no suppress_tokens: the vLLM path is not guarded this way
        generation_kwargs={"suppress_tokens": suppress_tokens} if suppress_tokens and not use_vllm else None,
    )


def _metrics_callback(path: Path):
    from transformers import TrainerCallback

    class MetricsFile(TrainerCallback):
        """metrics.json: one entry per logged step, rewritten atomically; a resume drops the entries of
        steps after its checkpoint."""

        def __init__(self):
            self.steps: list[dict] = []

        def on_train_begin(self, args, state, control, **kwargs):
            old = json.loads(path.read_text())["steps"] if path.exists() else []
            self.steps = [entry for entry in old if entry["step"] <= state.global_step]

        def on_log(self, args, state, control, logs=None, **kwargs):
            logs = logs or {}
            if "reward" not in logs:
                return
            entry = {"step": state.global_step, **{new: logs[old] for old, new in _KEPT.items() if old in logs}}
            entry.update({k: v for k, v in logs.items() if k.startswith("reward/")})
            self.steps = [e for e in self.steps if e["step"] != state.global_step] + [entry]
            write_json(path, {"steps": self.steps})

    return MetricsFile()


def _ledger_resume_callback(ledger):
    from transformers import TrainerCallback

    class DiscardLostRollouts(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            ledger.discard_after(state.global_step)

    return DiscardLostRollouts()


def run_grpo(config: GRPORunConfig, callbacks: list | None = None,
             say: Callable[[str], None] | None = None) -> TrainResult:
    """Train with GRPO (resuming from OUTPUT_DIR's newest checkpoint); returns the model to use next."""
    from videostar.rl.trainer import VideoGRPOTrainer  # first: makes torchvision importable for the rest

    from datasets import Dataset

    from videostar.models.hf import load_processor_and_model
    from videostar.rl.data import Clips, prompt_rows
    from videostar.rl.ledger import RolloutLedger
    from videostar.rl.rewards import VerifiedReward
    from videostar.store.lock import RunLock
    from videostar.train.checkpoints import prepare_resume
    from videostar.train.trainers import _peft, merge_adapter  # _peft reads only ``config.lora``
    from videostar.verify.verifier import Verifier

    out = Path(config.output_dir)
    samples = select_samples(config)
    main = int(os.environ.get("RANK", "0")) == 0
    lock = RunLock(out / "grpo.lock") if main else None
    try:
        write_json(out / "grpo_config.json", config.model_dump(mode="json"))
        processor, model = load_processor_and_model(config.model, config.dtype, config.device)
        model.train()
        clips = Clips(samples, config.frames, out / "frames", config.frame_cache_bytes)
        with RolloutLedger(out) as ledger:
            reward = VerifiedReward(Verifier(config.verifier), config.reward, clips, ledger,
                                    process_index=int(os.environ.get("RANK", "0")))
            lora = config.lora
            trainer = VideoGRPOTrainer(
                model=model, reward_funcs=[reward],
                args=grpo_args(config, _use_vllm(config), placeholder_token_ids(model.config)),
                train_dataset=Dataset.from_list(prompt_rows(samples, config.prompts, config.seed)),
                processing_class=processor, peft_config=_peft(config, model), clips=clips,
                callbacks=[_ledger_resume_callback(ledger), _metrics_callback(out / METRICS_FILE),
                           *(callbacks or [])])
            # the newest complete checkpoint, restored exactly (LoRA or full: train/checkpoints.py)
            checkpoint = prepare_resume(trainer)
            if say and checkpoint:
                say(f"resuming from {checkpoint}")
            trainer.train(resume_from_checkpoint=checkpoint)
        final = out / "final"
        trainer.save_model(str(final))
        processor.save_pretrained(final)
        model_dir = merge_adapter(trainer.model, processor, out / "merged") if lora and config.merge else final
        steps = json.loads((out / METRICS_FILE).read_text())["steps"] if (out / METRICS_FILE).exists() else []
        losses = [e["loss"] for e in steps if "loss" in e]
        return TrainResult(model_dir=model_dir, losses=losses, metrics={"steps": trainer.state.global_step,
                                                                        "log": steps})
    finally:
        if lock is not None:
            lock.release()
