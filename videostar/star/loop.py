"""The Video-STaR loop: generate -> keep verified -> fine-tune -> generate again (METHOD.md steps 5-6).

Cycle k generates with the model from cycle k-1 (the base for cycle 0), adds what it kept to the
training set, and fine-tunes, by default from the ORIGINAL base on everything kept so far (STaR's
restart; ``restart_from_base: false`` continues from the previous cycle instead). With ``rl: grpo``
each cycle's fine-tuned model is then sharpened by GRPO with the verifiers as rewards (``grpo:``
holds its knobs), and the next cycle generates with that model: STaR's data bootstraps, GRPO
sharpens. Each cycle's directory holds its ledger, training data, model(s), yields and metrics.

Resumable at step granularity (see iterate.py): a rerun skips finished steps, generation resumes
inside its ledger, and training resumes from its last checkpoint.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Callable, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from videostar.atomic import write_jsonl
from videostar.config import GenerateConfig
from videostar.engine.engine import make_verifier, skip_summary
from videostar.iterate import Rounds, generate_round
from videostar.rl.config import GRPOSettings
from videostar.star.generate import Generation
from videostar.star.trainset import FORMS, build_examples
from videostar.store.export import trl_record
from videostar.store.ledger import Ledger
from videostar.train.trainers import TrainConfig, TrainSettings, train_sft


class StarConfig(BaseModel):
    """``generate`` describes each cycle's generation (its model is the base, its run_dir the loop's
    root); ``train`` the fine-tuning of every cycle."""

    model_config = ConfigDict(extra="forbid")
    generate: GenerateConfig
    train: TrainSettings = TrainSettings()
    cycles: int = Field(3, ge=1)
    restart_from_base: bool = True
    keep: Literal["verified", "all"] = Field(
        "verified", description="all: every generated answer is trained on, verified or not (plain self-training, "
                                "the paper's no-verification ablation); needs generate.steps: [answer]")
    forms: list[Literal[FORMS]] = Field(default_factory=lambda: list(FORMS))
    stop_when_yield_stalls: bool = False
    min_yield_gain: float = Field(0.0, description="with stop_when_yield_stalls: the gain a cycle must beat")
    mix_data: Path | None = Field(None, description="TRL-format JSONL of general instructions to keep ability")
    mix_ratio: float = Field(0.0, ge=0, description="mixed rows per kept row")
    rl: Literal["none", "grpo"] = Field("none", description="grpo: GRPO after each cycle's fine-tuning")
    grpo: GRPOSettings = GRPOSettings()

    @model_validator(mode="after")
    def _nothing_to_rationalize_when_all_is_kept(self) -> "StarConfig":
        if self.keep == "all" and "rationalize" in self.generate.steps:
            raise ValueError("keep: all trains on every answer, so no answer fails and nothing is left to "
                             "rationalize; set generate.steps: [answer]")
        return self

    @model_validator(mode="after")
    def _one_frame_sampling(self) -> "StarConfig":
        shared = {"frames", "prompts", "verifier"} & self.grpo.model_fields_set
        if shared:
            raise ValueError(f"grpo: {', '.join(sorted(shared))} come from generate: (one frame sampling, one set "
                             "of prompts and verifiers for the whole loop); set them there")
        return self


def total_answer_yield(table: dict) -> float:
    questions = sum(row["questions"] - row["skipped"] for row in table.values())
    return sum(row["kept_answer"] for row in table.values()) / max(questions, 1)


class StarLoop:
    def __init__(self, config: StarConfig, load_backend: Callable | None = None,
                 report: Callable[[int, dict], None] | None = None, progress=None):
        from videostar.models import load_backend as default_loader

        self.config = config
        self.verifier = make_verifier(config.generate.verifier)  # once: its embedder serves every cycle
        self.rounds = Rounds(config.generate.run_dir, "star", "cycle", config.generate.model.path, config.cycles,
                             report)
        self.load_backend = load_backend or default_loader
        self.progress = progress

    def _generate(self, k: int, model_path: str) -> dict:
        def work(config, backend, ledger) -> dict:
            table = Generation(config, backend, self.verifier, ledger, self.progress).run()
            return {"yield": table, "answer_yield": round(total_answer_yield(table), 4), "skipped": skip_summary(ledger)}

        return generate_round(self.config.generate, self.rounds.dir(k) / "generate", model_path, self.load_backend, work)

    def _training_rows(self, k: int) -> list[dict]:
        examples = []
        for j in range(k + 1):
            with Ledger(self.rounds.dir(j) / "generate") as ledger:
                examples += build_examples(ledger, tuple(self.config.forms), self.config.generate.prompts,
                                           seed=self.config.generate.seed, verified_only=self.config.keep == "verified")
        frames = self.config.generate.frames.model_dump(mode="json")
        rows = [trl_record(e, frames) for e in examples]
        if self.config.mix_data and self.config.mix_ratio > 0 and rows:
            mixed = [json.loads(line) for line in Path(self.config.mix_data).read_text().splitlines() if line.strip()]
            rng = random.Random(self.config.generate.seed + k)
            count = min(len(mixed), round(len(rows) * self.config.mix_ratio))
            rows += rng.sample(mixed, count)
        return rows

    def _train(self, k: int, model: str, generated: dict) -> dict:
        rows = self._training_rows(k)
        data = self.rounds.dir(k) / "train.jsonl"
        write_jsonl(data, rows)
        if not rows:  # nothing verified yet: the next cycle samples the same model again
            return {"model": model, "train_losses": [], "train_rows": 0, "train_skipped": "nothing kept yet"}
        base = self.config.generate.model.path if self.config.restart_from_base else model
        result = train_sft(train_config(self.config.train, self.config.generate, base, data, self.rounds.dir(k) / "model"))
        trained = {"model": str(result.model_dir), "train_losses": result.losses, "train_rows": len(rows)}
        return trained | self._grpo(k, trained["model"]) if self.config.rl == "grpo" else trained

    def _grpo(self, k: int, model: str) -> dict:
        """GRPO from this cycle's fine-tuned model on the loop's manifest, with the loop's frames, prompts
        and verifiers; resumes from its own checkpoints when the loop is rerun."""
        from videostar.rl.config import GRPORunConfig
        from videostar.rl.run import run_grpo

        g = self.config.generate
        run = GRPORunConfig(**{**self.config.grpo.model_dump(), "frames": g.frames, "prompts": g.prompts,
                               "verifier": g.verifier}, model=model, manifest=g.manifest,
                            output_dir=self.rounds.dir(k) / "grpo", allow_outside_root=g.allow_outside_root)
        result = run_grpo(run)
        rewards = [entry["reward"] for entry in result.metrics["log"] if "reward" in entry]
        return {"model": str(result.model_dir), "sft_model": model, "grpo_steps": result.metrics["steps"],
                "grpo_rewards": rewards}

    def _stalled(self, history: list[dict]) -> bool:
        return (self.config.stop_when_yield_stalls and len(history) > 1 and
                history[-1]["answer_yield"] <= history[-2]["answer_yield"] + self.config.min_yield_gain)

    def run(self) -> list[dict]:
        return self.rounds.run(self._generate, self._train, self._stalled)


def train_config(settings: TrainSettings, generate: GenerateConfig, base: str, data: Path, out: Path) -> TrainConfig:
    """A training run of a loop round: the round's data, the loop's frames, dtype and device; LoRA
    adapters are merged, since the next round generates with a standalone model."""
    values = settings.model_dump()
    if values["lora"] is not None:
        values["merge"] = True
    return TrainConfig(**values, model=base, data=data, output_dir=out, frames=generate.frames,
                       # a server's config has neither field (each backend has only its own)
                       dtype=getattr(generate.model, "dtype", "auto"),
                       device=getattr(generate.model, "device", "auto"))
