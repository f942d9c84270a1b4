"""Rounds of generate -> train -> next model, resumable at step granularity. Video-STaR's cycles and
VideoSAVi's iterations are both this shape; each supplies its own generate and train steps.

``{name}_state.json`` records each finished step, written atomically; a rerun skips finished steps
(the steps themselves resume inside their ledgers and checkpoints). A run lock keeps a second process
off the same directory.
"""

from __future__ import annotations

import gc
import json
from pathlib import Path
from typing import Callable

from videostar.atomic import write_json
from videostar.config import GenerateConfig
from videostar.store.ledger import Ledger
from videostar.store.lock import RunLock


def generate_round(generate: GenerateConfig, run_dir: Path, model_path: str, load_backend: Callable,
                   work: Callable[[GenerateConfig, object, Ledger], dict]) -> dict:
    """Run ``work(config, backend, ledger)`` for one round: the loop's generation config pointed at this
    round's directory and model; the backend (and its GPU memory) is released afterwards."""
    config = generate.model_copy(update={"run_dir": run_dir, "model": generate.model.model_copy(update={"path": model_path})})
    backend = None if config.engine == "ray" else load_backend(config.model)  # Ray's model actors load their own
    try:
        with Ledger(config.run_dir) as ledger:
            return work(config, backend, ledger)
    finally:
        del backend
        gc.collect()


class Rounds:
    """``generate(k, model) -> dict`` and ``train(k, model, generated) -> dict`` (must hold "model",
    the model of the next round) run once per round; ``stop(history)`` may end the run early."""

    def __init__(self, root: str | Path, name: str, unit: str, base_model: str, rounds: int,
                 report: Callable[[int, dict], None] | None = None):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.name, self.unit, self.base_model, self.rounds = name, unit, base_model, rounds
        self.state_file = self.root / f"{name}_state.json"
        self.report = report or (lambda k, metrics: None)

    def dir(self, k: int) -> Path:
        return self.root / f"{self.unit}_{k}"

    def run(self, generate: Callable[[int, str], dict], train: Callable[[int, str, dict], dict],
            stop: Callable[[list[dict]], bool] = lambda history: False) -> list[dict]:
        lock = RunLock(self.root / f"{self.name}.lock")
        try:
            state = json.loads(self.state_file.read_text()) if self.state_file.exists() else {"rounds": []}
            model, history = self.base_model, []
            for k in range(self.rounds):
                while len(state["rounds"]) <= k:
                    state["rounds"].append({})
                entry = state["rounds"][k]
                if "generated" not in entry:
                    entry["generated"] = generate(k, model)
                    write_json(self.state_file, state)
                if "trained" not in entry:
                    entry["trained"] = train(k, model, entry["generated"])
                    write_json(self.state_file, state)
                metrics = {self.unit: k, "generated_with": model, **entry["generated"], **entry["trained"]}
                write_json(self.dir(k) / "metrics.json", metrics)
                self.report(k, metrics)
                history.append(metrics)
                model = entry["trained"]["model"]
                if stop(history):
                    break
            write_json(self.root / f"{self.name}_summary.json", history)
            return history
        finally:
            lock.release()
