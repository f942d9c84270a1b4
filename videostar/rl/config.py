"""`videostar grpo` run config: a labeled manifest, a model, the reward recipe and GRPO's knobs.

    model: assets/toy-base            # hub id or local directory
    manifest: runs/toy/manifest.jsonl
    group_size: 8                     # G completions per prompt, generated in one batched call
    reward: {weights: {class: 1.0}, format_weight: 0.2}

Every field has a default except ``model``, ``manifest`` and ``output_dir``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from videostar.data.labels import LABEL_TYPES
from videostar.prompts import Prompts
from videostar.train.trainers import LoraSettings
from videostar.verify.verifier import VerifierConfig
from videostar.video.sampling import FrameSampling


class RewardSettings(BaseModel):
    """A sample's reward: the weighted mean of its labels' verifier scores (graded, 0..1; or 1/0 for
    pass/fail with ``graded: false``), plus ``format_weight`` x the format reward (a 'Final answer:'
    line is present and the answer does not repeat itself)."""

    model_config = ConfigDict(extra="forbid")
    weights: dict[str, float] = Field(default_factory=dict, description="label type -> weight (default 1.0)")
    graded: bool = Field(True, description="use the verifier's 0..1 score; false: 1 when the label passes, else 0")
    format_weight: float = Field(0.0, ge=0, description="weight of the format reward; 0 turns it off")
    max_repeated_ngram_share: float = Field(0.5, gt=0, le=1, description="format: share of repeated 4-grams allowed")

    @field_validator("weights")
    @classmethod
    def _known_types(cls, weights: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(weights) - set(LABEL_TYPES))
        if unknown:
            raise ValueError(f"unknown label type(s) {unknown}; choose from {list(LABEL_TYPES)}")
        if any(w < 0 for w in weights.values()):
            raise ValueError("label weights must be >= 0")
        return weights

    def weight(self, label_type: str) -> float:
        return self.weights.get(label_type, 1.0)


class VLLMSettings(BaseModel):
    """Generation through vLLM (TRL's modes). Video needs the colocated mode: TRL's server client
    sends images only."""

    model_config = ConfigDict(extra="forbid")
    enabled: Literal["auto", True, False] = Field("auto", description="auto: when vllm is installed and a GPU is present")
    mode: Literal["colocate"] = "colocate"
    gpu_memory_utilization: float = Field(0.3, gt=0, le=1)
    enable_sleep_mode: bool = False


class GRPOSettings(BaseModel):
    """GRPO's knobs, without the model and data: what a loop (``star`` with ``rl: grpo``) reuses
    every cycle, as ``TrainSettings`` is to ``TrainConfig``."""

    model_config = ConfigDict(extra="forbid")
    splits: list[str] | None = Field(default_factory=lambda: ["train"], description="null: every split")
    tasks: list[str] | None = Field(None, description="only samples of these tasks; null: all")
    max_samples: int | None = Field(None, ge=1)
    frames: FrameSampling = FrameSampling()
    prompts: Prompts = Prompts()
    verifier: VerifierConfig = VerifierConfig()
    reward: RewardSettings = RewardSettings()
    group_size: int = Field(8, ge=2, description="G: completions per prompt (the group advantages are taken over)")
    batch_size: int = Field(4, ge=1, description="prompts per optimizer step (each gets group_size completions)")
    micro_batches: int = Field(1, ge=1, description="forward/backward passes the step's batch_size x group_size "
                                                    "completions are split into (gradient accumulation, for memory)")
    steps: int = Field(100, ge=1, description="optimizer steps")
    learning_rate: float = Field(1e-5, gt=0)
    beta: float = Field(0.04, ge=0, description="KL penalty to the reference model (0: no reference model)")
    epsilon: float = Field(0.2, gt=0, description="clipping of the probability ratio: [1 - eps, 1 + eps]")
    iterations: int = Field(1, ge=1, description="optimizer passes per generated batch (GRPO's mu)")
    loss_type: Literal["grpo", "dapo", "dr_grpo", "bnpo"] = Field(
        "dapo", description="how token losses are averaged (TRL's loss_type; grpo: per sequence, then per batch)")
    scale_rewards: Literal["group", "batch", "none"] = Field("group", description="advantage = (r - group mean) / std")
    max_completion_length: int = Field(256, ge=1)
    temperature: float = Field(1.0, gt=0)
    top_p: float = Field(1.0, gt=0, le=1)
    lora: LoraSettings | None = LoraSettings()
    gradient_checkpointing: bool = False
    bf16: Literal["auto", True, False] = "auto"
    dtype: str = "auto"
    device: str = "auto"
    vllm: VLLMSettings = VLLMSettings()
    save_steps: int = Field(50, ge=1)
    save_total_limit: int = Field(2, ge=1)
    report_to: str = Field("none", description="tensorboard | wandb | none")
    merge: bool = Field(True, description="LoRA: also write a standalone merged model to OUTPUT_DIR/merged")
    frame_cache_bytes: int = Field(2 * 1024**3, ge=0)
    seed: int = 0

    @model_validator(mode="after")
    def _micro_batches_divide_the_step(self) -> "GRPOSettings":
        rows = self.batch_size * self.group_size
        if rows % self.micro_batches:
            raise ValueError(f"micro_batches: must divide batch_size x group_size = {rows}, got {self.micro_batches}")
        return self


class GRPORunConfig(GRPOSettings):
    """One GRPO run on a labeled manifest (``videostar grpo --config``)."""

    model: str
    manifest: Path
    output_dir: Path
    allow_outside_root: bool = Field(False, description="let relative video paths leave the manifest's folder")
