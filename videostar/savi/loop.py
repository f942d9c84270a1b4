"""VideoSAVi: each iteration makes fresh preference pairs with the current model and trains it with
DPO on them (continuing from the current weights, as the paper does; with LoRA the reference is
the adapter-disabled model). The paper ran 4 iterations. Resumable like the Video-STaR loop.
"""

from __future__ import annotations

from typing import Callable

from pydantic import BaseModel, ConfigDict, Field

from videostar.atomic import write_jsonl
from videostar.config import GenerateConfig
from videostar.engine.engine import make_verifier, skip_summary
from videostar.iterate import Rounds, generate_round
from videostar.savi.generate import SaviGeneration, SaviSettings
from videostar.star.loop import train_config
from videostar.store.export import pair_rows
from videostar.train.trainers import TrainSettings, train_dpo


class SaviConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    generate: GenerateConfig  # model (the base), manifest, run_dir, frames (the paper: 32), sampling, prompts
    savi: SaviSettings = SaviSettings()
    train: TrainSettings = TrainSettings(learning_rate=5e-6)
    iterations: int = Field(4, ge=1)


class SaviLoop:
    def __init__(self, config: SaviConfig, load_backend: Callable | None = None,
                 report: Callable[[int, dict], None] | None = None, progress=None):
        from videostar.models import load_backend as default_loader

        self.config = config
        self.verifier = make_verifier(config.generate.verifier)  # once: its embedder serves every iteration
        self.rounds = Rounds(config.generate.run_dir, "savi", "iteration", config.generate.model.path,
                             config.iterations, report)
        self.load_backend = load_backend or default_loader
        self.progress = progress

    def _generate(self, k: int, model_path: str) -> dict:
        def work(config, backend, ledger) -> dict:
            counts = SaviGeneration(config, self.config.savi, backend, self.verifier, ledger, self.progress).run()
            return {"pairs": counts, "skipped": skip_summary(ledger),
                    "rows": pair_rows(ledger, config.frames.model_dump(mode="json"), prompts=config.prompts)}

        result = generate_round(self.config.generate, self.rounds.dir(k) / "generate", model_path,
                                self.load_backend, work)
        rows = result.pop("rows")
        write_jsonl(self.rounds.dir(k) / "pairs.jsonl", rows)
        return {**result, "kept_pairs": len(rows)}

    def _train(self, k: int, model: str, generated: dict) -> dict:
        if not generated["kept_pairs"]:
            return {"model": model, "train_losses": [], "train_skipped": "no pairs kept"}
        data = self.rounds.dir(k) / "pairs.jsonl"
        result = train_dpo(train_config(self.config.train, self.config.generate, model, data,
                                        self.rounds.dir(k) / "model"))
        return {"model": str(result.model_dir), "train_losses": result.losses,
                "reward_margins": [e["rewards/margins"] for e in result.metrics["log"] if "rewards/margins" in e]}

    def run(self) -> list[dict]:
        return self.rounds.run(self._generate, self._train)
