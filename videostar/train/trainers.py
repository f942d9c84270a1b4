"""`videostar train sft|dpo`: TRL's SFTTrainer and DPOTrainer with videostar's video collators.

LoRA (PEFT) or full fine-tuning, gradient checkpointing, bf16 where the hardware has it, TRL's
logging (``report_to`` tensorboard/wandb), checkpoints that a rerun resumes from, and an optional
merge of the LoRA adapter into a standalone model directory for the next generation step.
Several GPUs: ``accelerate launch -m videostar.cli train sft --config ...`` (see examples/configs).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from videostar.atomic import atomic_dir, write_json
from videostar.train.collators import FrameLoader, VideoDPOCollator, VideoSFTCollator
from videostar.video.sampling import FrameSampling


class LoraSettings(BaseModel):
    """LoRA adapters on every linear layer of the language model (attention and MLP projections),
    found from the model's structure (the module ``get_decoder()`` returns), never by name suffix:
    Qwen2.5-VL's vision MLP also has ``gate_proj``/``up_proj``/``down_proj``. The vision tower,
    the vision-language projector and the output head stay frozen unless ``vision: true`` (then
    every linear layer outside the language model and head gets adapters too). ``target_modules``
    replaces all of this with PEFT's own matching (a list of names or a regex)."""

    model_config = ConfigDict(extra="forbid")
    r: int = Field(16, ge=1)
    alpha: int = Field(32, ge=1)
    dropout: float = Field(0.05, ge=0, lt=1)
    vision: bool = False
    target_modules: list[str] | str | None = None


def lora_targets(model, settings: LoraSettings) -> list[str] | str:
    """Full names of the linear layers LoRA adapts (see ``LoraSettings``)."""
    import torch

    if settings.target_modules is not None:
        return settings.target_modules
    names = {id(module): name for name, module in model.named_modules()}
    decoder = names.get(id(model.get_decoder()))
    if decoder is None:
        raise ValueError(f"{type(model).__name__}: cannot find the language model (get_decoder); "
                         "set lora.target_modules explicitly")
    head = names.get(id(model.get_output_embeddings()))
    linear = [n for n, m in model.named_modules() if isinstance(m, torch.nn.Linear) and n != head]
    language = [n for n in linear if n.startswith(decoder + ".")]
    return linear if settings.vision else language


class TrainSettings(BaseModel):
    """Hyperparameters; the Video-STaR loop reuses these for every cycle."""

    model_config = ConfigDict(extra="forbid")
    lora: LoraSettings | None = LoraSettings()  # null: full fine-tuning
    learning_rate: float = Field(1e-4, gt=0)
    lr_scheduler: Literal["constant", "constant_with_warmup", "linear", "cosine", "cosine_with_restarts",
                          "polynomial", "inverse_sqrt"] = "constant"
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
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
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
    """Trainer arguments. The trainer (accelerate) places the model, one copy per process;
    ``device: cpu`` forces the CPU, any other value leaves the choice to accelerate."""
    import torch

    return dict(
        use_cpu=config.device == "cpu", output_dir=str(config.output_dir),
        per_device_train_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_accum, learning_rate=config.learning_rate,
        lr_scheduler_type=config.lr_scheduler, warmup_steps=config.warmup_steps, num_train_epochs=config.epochs,
        max_steps=config.max_steps, logging_steps=config.logging_steps, save_steps=config.save_steps,
        report_to=config.report_to, seed=config.seed, bf16=_bf16(config.bf16),
        activation_checkpointing=config.gradient_checkpointing, remove_unused_columns=False,
        dataloader_num_workers=0, dataloader_pin_memory=torch.cuda.is_available(), save_total_limit=2,
    )


def _peft(config: TrainConfig, model):
    if config.lora is None:
        return None
    from peft import LoraConfig

    return LoraConfig(r=config.lora.r, lora_alpha=config.lora.alpha, lora_dropout=config.lora.dropout,
                      target_modules=lora_targets(model, config.lora), task_type="CAUSAL_LM")


def _finish(trainer, config: TrainConfig, processor) -> TrainResult:
    """Train, then write final/, merged/ and the metrics once: under ``accelerate launch`` only the
    main process writes (every process holds the same weights after the last step)."""
    from videostar.train.checkpoints import prepare_resume

    trainer.train(resume_from_checkpoint=prepare_resume(trainer))
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    final = Path(config.output_dir) / "final"
    trainer.save_model(str(final))  # collective under DeepSpeed/FSDP; writes on the main process only
    model_dir = final
    merge = config.lora is not None and config.merge
    if merge:
        model_dir = Path(config.output_dir) / "merged"
    metrics = {"losses": losses, "steps": trainer.state.global_step,
               "log": [e for e in trainer.state.log_history if "loss" in e or "train_loss" in e]}
    if trainer.is_world_process_zero():
        processor.save_pretrained(final)
        if merge:
            merge_adapter(trainer.model, processor, model_dir)
        write_json(Path(config.output_dir) / "train_metrics.json", metrics)
    trainer.accelerator.wait_for_everyone()
    return TrainResult(model_dir=model_dir, losses=losses, metrics=metrics)


def merge_adapter(peft_model, processor, out: Path) -> Path:
    """Fold a LoRA adapter into its base weights and save a standalone model directory."""
    merged = peft_model.merge_and_unload()
    with atomic_dir(out) as tmp:
        merged.save_pretrained(tmp, safe_serialization=True)
        processor.save_pretrained(tmp)
    return out


def _load(config: TrainConfig):
    from datasets import load_dataset

    from videostar.models.hf import load_processor_and_model

    processor, model = load_processor_and_model(config.model, config.dtype, device=None)
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
                         processing_class=processor, peft_config=_peft(config, model))
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
                                   processing_class=processor, peft_config=_peft(config, model))
    return _finish(trainer, config, processor)
