"""The Video-STaR loop: generate -> keep verified -> fine-tune -> generate again (METHOD.md steps 5-6).

Cycle k generates with the model from cycle k-1 (the base for cycle 0), adds what it kept to the
training set, and fine-tunes, by default from the ORIGINAL base on everything kept so far (STaR's
restart; ``restart_from_base: false`` continues from the previous cycle instead). Each cycle's
directory holds its ledger, training data, model, yields and metrics.

Resumable at step granularity: ``star_state.json`` records each finished step (written atomically);
a rerun skips finished steps, generation resumes inside its ledger, and training resumes from its
last checkpoint.
"""

from __future__ import annotations

import gc
import json
import os
import random
from pathlib import Path
from typing import Callable

from pydantic import BaseModel, ConfigDict, Field

from videostar.config import GenerateConfig
from videostar.star.generate import Generation
from videostar.star.trainset import FORMS, Example, build_examples
from videostar.store.export import trl_record
from videostar.store.ledger import Ledger
from videostar.store.lock import RunLock
from videostar.train.trainers import TrainConfig, TrainResult, TrainSettings, train_sft
from videostar.verify.verifier import Verifier


class StarConfig(BaseModel):
    """``generate`` describes each cycle's generation (its model is the base, its run_dir the loop's
    root); ``train`` the fine-tuning of every cycle."""

    model_config = ConfigDict(extra="forbid")
    generate: GenerateConfig
    train: TrainSettings = TrainSettings()
    cycles: int = Field(3, ge=1)
    restart_from_base: bool = True
    forms: list[str] = Field(default_factory=lambda: list(FORMS))
    stop_when_yield_stalls: bool = False
    min_yield_gain: float = Field(0.0, description="with stop_when_yield_stalls: the gain a cycle must beat")
    mix_data: Path | None = Field(None, description="TRL-format JSONL of general instructions to keep ability")
    mix_ratio: float = Field(0.0, ge=0, description="mixed rows per kept row")


def _write_json(path: Path, data) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, path)


def total_answer_yield(table: dict) -> float:
    questions = sum(row["questions"] for row in table.values())
    return sum(row["kept_answer"] for row in table.values()) / max(questions, 1)


class StarLoop:
    def __init__(self, config: StarConfig, load_backend: Callable | None = None,
                 report: Callable[[int, dict], None] | None = None, progress=None):
        self.config = config
        self.root = Path(config.generate.run_dir)
        self.root.mkdir(parents=True, exist_ok=True)
        self.state_file = self.root / "star_state.json"
        self.state = json.loads(self.state_file.read_text()) if self.state_file.exists() else {"cycles": []}
        from videostar.models import load_backend as default_loader

        self.load_backend = load_backend or default_loader
        self.report = report or (lambda cycle, metrics: None)
        self.progress = progress

    def _save(self) -> None:
        _write_json(self.state_file, self.state)

    def _cycle_state(self, k: int) -> dict:
        while len(self.state["cycles"]) <= k:
            self.state["cycles"].append({})
        return self.state["cycles"][k]

    def _generate(self, k: int, model_path: str) -> dict:
        gen = self.config.generate
        config = gen.model_copy(update={"run_dir": self.root / f"cycle_{k}" / "generate",
                                        "model": gen.model.model_copy(update={"path": model_path})})
        backend = self.load_backend(config.model)
        try:
            with Ledger(config.run_dir) as ledger:
                return Generation(config, backend, Verifier(config.verifier), ledger, self.progress).run()
        finally:
            del backend
            gc.collect()

    def _training_rows(self, k: int) -> list[dict]:
        examples: list[Example] = []
        for j in range(k + 1):
            with Ledger(self.root / f"cycle_{j}" / "generate") as ledger:
                examples += build_examples(ledger, tuple(self.config.forms), self.config.generate.prompts,
                                           seed=self.config.generate.seed)
        frames = self.config.generate.frames.model_dump(mode="json")
        rows = [trl_record(e, frames) for e in examples]
        if self.config.mix_data and self.config.mix_ratio > 0 and rows:
            mixed = [json.loads(line) for line in Path(self.config.mix_data).read_text().splitlines() if line.strip()]
            rng = random.Random(self.config.generate.seed + k)
            count = min(len(mixed), round(len(rows) * self.config.mix_ratio))
            rows += rng.sample(mixed, count)
        return rows

    def _train(self, k: int, previous_model: str) -> TrainResult:
        cycle_dir = self.root / f"cycle_{k}"
        data = cycle_dir / "train.jsonl"
        base = self.config.generate.model.path if self.config.restart_from_base else previous_model
        settings = self.config.train.model_dump()
        if settings["lora"] is not None:
            settings["merge"] = True  # the next cycle generates with a standalone model
        config = TrainConfig(**settings, model=base, data=data, output_dir=cycle_dir / "model",
                             frames=self.config.generate.frames, dtype=self.config.generate.model.dtype,
                             device=self.config.generate.model.device)
        return train_sft(config)

    def run(self) -> list[dict]:
        lock = RunLock(self.root / "star.lock")
        try:
            return self._run()
        finally:
            lock.release()

    def _run(self) -> list[dict]:
        model = self.config.generate.model.path
        history = []
        for k in range(self.config.cycles):
            state = self._cycle_state(k)
            if "yield" not in state:
                state["yield"] = self._generate(k, model)
                state["answer_yield"] = round(total_answer_yield(state["yield"]), 4)
                self._save()
            if "model" not in state:
                rows = self._training_rows(k)
                data = self.root / f"cycle_{k}" / "train.jsonl"
                data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
                if rows:
                    result = self._train(k, model)
                    state.update(model=str(result.model_dir), train_losses=result.losses, train_rows=len(rows))
                else:  # nothing verified yet: the next cycle samples the same model again
                    state.update(model=model, train_losses=[], train_rows=0, train_skipped="nothing kept yet")
                self._save()
            metrics = {"cycle": k, "generated_with": model, **state}
            _write_json(self.root / f"cycle_{k}" / "metrics.json", metrics)
            self.report(k, metrics)
            history.append(metrics)
            model = state["model"]
            if (self.config.stop_when_yield_stalls and k > 0 and
                    state["answer_yield"] <= history[-2]["answer_yield"] + self.config.min_yield_gain):
                break
        _write_json(self.root / "star_summary.json", history)
        return history
