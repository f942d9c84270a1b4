"""`videostar train sft|dpo`: TRL's SFTTrainer and DPOTrainer with videostar's video collators.

LoRA (PEFT) or full fine-tuning, gradient checkpointing, bf16 where the hardware has it, TRL's
logging (``report_to`` tensorboard/wandb), checkpoints that a rerun resumes from, and an optional
merge of the LoRA adapter into a standalone model directory for the next generation step.
Several GPUs: ``accelerate launch -m videostar.cli train sft --config ...`` (see examples/configs).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from videostar.train.collators import FrameLoader, VideoDPOCollator, VideoSFTCollator
from videostar.video.sampling import FrameSampling

LM_PROJECTIONS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


class LoraSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    r: int = Field(16, ge=1)
    alpha: int = Field(32, ge=1)
    dropout: float = Field(0.05, ge=0, lt=1)
    # The language model's projections; the vision tower's layers have other names and stay frozen.
    target_modules: list[str] | str = Field(default_factory=lambda: list(LM_PROJECTIONS))


class TrainSettings(BaseModel):
    """Hyperparameters; the Video-STaR loop reuses these for every cycle."""

    model_config = ConfigDict(extra="forbid")
    lora: LoraSettings | None = LoraSettings()  # null: full fine-tuning
    learning_rate: float = Field(1e-4, gt=0)
    lr_scheduler: str = "constant"
    warmup_steps: float = Field(0, ge=0, description="steps, or a fraction of all steps when < 1")
    epochs: float = Field(1.0, gt=0)
    max_steps: int = Field(-1, description="> 0 overrides epochs")
    batch_size: int = Field(1, ge=1)
    grad_accum: int = Field(1, ge=1)
    gradient_checkpointing: bool = False
    bf16: Literal["auto", True, False] = "auto"
    logging_steps: int = Field(1, ge=1)
    save_steps: int = Field(500, ge=1)
    report_to: str = "none"  # tensorboard | wandb | none
    seed: int = 0
    merge: bool = True  # LoRA: also write a standalone merged model to OUTPUT_DIR/merged
    dpo_beta: float = Field(0.1, gt=0, description="DPO only: strength of the KL penalty")


class TrainConfig(TrainSettings):
    """One training run: ``data`` is JSONL (videostar export --format trl, or prompt/chosen/rejected)."""

    model: str
    data: Path
    output_dir: Path
    frames: FrameSampling | None = None  # default: the frame_sampling recorded in the data rows
    dtype: str = "auto"
    device: str = "auto"


@dataclass
class TrainResult:
    model_dir: Path  # what to generate with next: merged model, adapter dir, or full model
    losses: list[float]
    metrics: dict


def _bf16(setting) -> bool:
    import torch

    if setting == "auto":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return bool(setting)


def _frames(config: TrainConfig, dataset) -> FrameSampling:
    if config.frames is not None:
        return config.frames
    recorded = dataset[0].get("frame_sampling") if len(dataset) else None
    return FrameSampling.model_validate(recorded) if recorded else FrameSampling()


def _common_args(config: TrainConfig) -> dict:
    import torch

    return dict(
        output_dir=str(config.output_dir), per_device_train_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_accum, learning_rate=config.learning_rate,
        lr_scheduler_type=config.lr_scheduler, warmup_steps=config.warmup_steps, num_train_epochs=config.epochs,
        max_steps=config.max_steps, logging_steps=config.logging_steps, save_steps=config.save_steps,
        report_to=config.report_to, seed=config.seed, bf16=_bf16(config.bf16),
        activation_checkpointing=config.gradient_checkpointing, remove_unused_columns=False,
        dataloader_num_workers=0, dataloader_pin_memory=torch.cuda.is_available(), save_total_limit=2,
    )


def _peft(config: TrainConfig):
    if config.lora is None:
        return None
    from peft import LoraConfig

    return LoraConfig(r=config.lora.r, lora_alpha=config.lora.alpha, lora_dropout=config.lora.dropout,
                      target_modules=config.lora.target_modules, task_type="CAUSAL_LM")


def _finish(trainer, config: TrainConfig, processor) -> TrainResult:
    from videostar.train.checkpoints import prepare_resume

    trainer.train(resume_from_checkpoint=prepare_resume(trainer))
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    final = Path(config.output_dir) / "final"
    trainer.save_model(str(final))
    processor.save_pretrained(final)
    model_dir = final
    if config.lora is not None and config.merge:
        model_dir = merge_adapter(trainer.model, processor, Path(config.output_dir) / "merged")
    metrics = {"losses": losses, "steps": trainer.state.global_step,
               "log": [e for e in trainer.state.log_history if "loss" in e or "train_loss" in e]}
    (Path(config.output_dir) / "train_metrics.json").write_text(json.dumps(metrics, indent=2))
    return TrainResult(model_dir=model_dir, losses=losses, metrics=metrics)


def merge_adapter(peft_model, processor, out: Path) -> Path:
    """Fold a LoRA adapter into its base weights and save a standalone model directory."""
    merged = peft_model.merge_and_unload()
    merged.save_pretrained(out, safe_serialization=True)
    processor.save_pretrained(out)
    return out


def _load(config: TrainConfig):
    from datasets import load_dataset

    from videostar.models.hf import load_processor_and_model

    processor, model = load_processor_and_model(config.model, config.dtype, config.device)
    model.train()
    dataset = load_dataset("json", data_files=str(config.data), split="train")
    if len(dataset) == 0:
        raise ValueError(f"{config.data}: no training rows")
    return processor, model, dataset


def _import_trl():
    from videostar.compat import ensure_torchvision_importable

    ensure_torchvision_importable()  # TRL imports transformers, which imports torchvision
    import trl

    return trl


def train_sft(config: TrainConfig) -> TrainResult:
    trl = _import_trl()
    SFTConfig, SFTTrainer = trl.SFTConfig, trl.SFTTrainer

    processor, model, dataset = _load(config)
    collator = VideoSFTCollator(processor, FrameLoader(_frames(config, dataset), Path(config.output_dir) / "frames"))
    args = SFTConfig(**_common_args(config), dataset_kwargs={"skip_prepare_dataset": True}, max_length=None)
    trainer = SFTTrainer(model=model, args=args, train_dataset=dataset, data_collator=collator,
                         processing_class=processor, peft_config=_peft(config))
    return _finish(trainer, config, processor)


def _video_dpo_trainer():
    class VideoDPOTrainer(_import_trl().DPOTrainer):
        """TRL recognises vision rows only by 'image(s)' keys and would tokenize video rows as text;
        rows go to the video collator untouched instead."""

        def _prepare_dataset(self, dataset, *args, **kwargs):
            return dataset

    return VideoDPOTrainer


def train_dpo(config: TrainConfig) -> TrainResult:
    """DPO on rows with ``prompt``, ``chosen``, ``rejected`` and the video. With LoRA the reference
    model is the base with the adapter disabled (no second copy in memory)."""
    DPOConfig = _import_trl().DPOConfig

    processor, model, dataset = _load(config)
    collator = VideoDPOCollator(processor, FrameLoader(_frames(config, dataset), Path(config.output_dir) / "frames"))
    args = DPOConfig(**_common_args(config), beta=config.dpo_beta, max_length=None)
    trainer = _video_dpo_trainer()(model=model, args=args, train_dataset=dataset, data_collator=collator,
                                   processing_class=processor, peft_config=_peft(config))
    return _finish(trainer, config, processor)
