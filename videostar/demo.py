"""`make demo` / `videostar demo`: Video-STaR makes the small base model better at tasks it never saw.

1. Disjoint toy train and held-out sets (different seeds), labeled with general and adapted tasks.
2. Evaluate the base on both kinds of task.
3. Three Video-STaR cycles on the train set's labels, evaluating after each.
4. The naive baseline the paper compares against (its Video-LLaVA+): the labels turned into direct
   QA by templates and fine-tuned on directly, with the same training budget (steps).
5. With ``ablations``, the paper's ablations in miniature, each trained with the same per-model
   budget and evaluated the same way: Video-STaR without rationalization, without verification
   (every generated answer kept: plain self-training), direct supervision on the gold labels in the
   forms evaluation asks (the upper bound of what the labels teach in this budget) and GRPO from
   the base with the verifiers as rewards.
6. With ``repeats`` > 1, everything from step 3 again with the next seeds (sampling and training;
   the data and the held-out prompts stay fixed): the tables show the mean and the spread.
7. results.json and the HTML report.

Every evaluation asks each held-out prompt about its own clip and about another sample's clip
(eval.evaluate): the headline is the video-grounded accuracy (real - swapped) beside the
majority-answer floor, since format and the common answer alone score well on toy questions.

Every step's result is written to the run directory as it finishes; rerunning skips finished steps.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from videostar.atomic import write_json, write_jsonl
from videostar.config import GenerateConfig
from videostar.data.manifest import load_manifest
from videostar.prompts import Prompts, gold_answer
from videostar.rl.config import GRPOSettings
from videostar.star.loop import StarConfig, StarLoop
from videostar.star.questions import template_questions
from videostar.star.trainset import FORMS, answer_pool, mc_item
from videostar.toyworld.dataset import make_toy_dataset
from videostar.toyworld.instructions import ADAPTED_TASKS, GENERAL_TASKS
from videostar.toyworld.pretrain import DEMO_FRAMES
from videostar.train.trainers import TrainConfig, TrainSettings, train_sft

BASE_MODEL = Path(__file__).resolve().parent.parent / "assets" / "toy-base"
# The Video-STaR variants among the ablations: what each changes in the loop's config.
STAR_ABLATIONS = {
    "no rationalization": {"steps": ["answer"]},
    "no verification": {"steps": ["answer"], "keep": "all"},
}
ABLATIONS = (*STAR_ABLATIONS, "direct supervision", "grpo")


def _demo_grpo() -> GRPOSettings:
    """GRPO sized for the tiny base on CPU: full fine-tuning at the SFT learning rate, pass/fail
    rewards, short completions (the settings of the GRPO test that raises the toy reward)."""
    return GRPOSettings(lora=None, group_size=8, batch_size=4, learning_rate=1e-3, reward={"graded": False},
                        max_completion_length=48, temperature=1.0, device="cpu", save_steps=10**9)


class DemoConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    run_dir: Path = Path("runs/demo")
    base_model: Path = BASE_MODEL
    train_videos: int = Field(150, ge=2)
    eval_videos: int = Field(80, ge=2)
    cycles: int = Field(3, ge=1)
    train_steps: int = Field(150, ge=1, description="SFT steps per model; the baseline and ablations get the same")
    batch_size: int = 32
    learning_rate: float = 1e-3
    max_new_tokens: int = 48
    temperature: float = 0.7
    samples_per_question: int = Field(1, ge=1, description="answers drawn per question in each cycle")
    rationalize_samples: int = Field(1, ge=1, description="rationalizations drawn per failed question")
    # Chain of thought for the open answers the adapted tasks are asked in, multiple choice so that
    # form is not forgotten (with chain of thought only, multiple-choice accuracy fell to ~0).
    forms: list[Literal[FORMS]] = Field(default_factory=lambda: ["cot", "mc"], description="training forms of kept samples")
    seed: int = Field(0, description="the data's seed and the first run's")
    repeats: int = Field(1, ge=1, description="runs with seeds seed, seed+1, ...; tables show mean and spread")
    ablations: bool = Field(False, description="also run the paper's ablations (ABLATIONS) in every repeat")
    grpo: GRPOSettings = Field(default_factory=_demo_grpo, description="the GRPO ablation's settings (steps: "
                                                                         "train_steps)")


COLUMNS = ("open", "open_swapped", "open_grounded", "mc", "mc_swapped", "mc_grounded", "majority")


def summarize(evaluation: dict) -> dict:
    """{"adapted": {column: mean over adapted tasks}, "general": {...}} for each of COLUMNS present
    (real, swapped and grounded accuracy per mode, and the majority floor; percent)."""
    tasks = evaluation["tasks"]
    out = {}
    for group, names in (("adapted", ADAPTED_TASKS), ("general", GENERAL_TASKS)):
        rows = [tasks[t] for t in names if t in tasks]
        out[group] = {column: round(float(np.mean([r[column] for r in rows if column in r])), 2)
                      for column in COLUMNS if any(column in r for r in rows)}
    return out


def combine(summaries: list[dict]) -> dict:
    """Mean of several runs' summaries, with "spread" = half the range of each value (0 for one run)."""
    out = {"spread": {}}
    for group in summaries[0]:
        values = {c: [s[group][c] for s in summaries] for c in summaries[0][group]}
        out[group] = {c: round(float(np.mean(v)), 2) for c, v in values.items()}
        out["spread"][group] = {c: round((max(v) - min(v)) / 2, 2) for c, v in values.items()}
    return out


class Demo:
    def __init__(self, config: DemoConfig, say: Callable[[str], None] = print, progress=None):
        self.config = config
        self.root = Path(config.run_dir)
        self.say = say
        self.progress = progress
        self.train = self.root / "data" / "train" / "manifest.jsonl"
        self.held_out = self.root / "data" / "held_out" / "manifest.jsonl"

    def _evaluate(self, out: Path, model: str) -> dict:
        """Held-out evaluation of ``model`` into ``out`` (RUN/eval/NAME.json; read back when it exists)."""
        if out.exists():
            return json.loads(out.read_text())
        from videostar.eval.evaluate import evaluate
        from videostar.models.hf import HFBackend

        backend = HFBackend(model, device="cpu", batch_size=self.config.batch_size)
        result = evaluate(backend, load_manifest(self.held_out), DEMO_FRAMES, cache_dir=self.root / "frames",
                          max_new_tokens=self.config.max_new_tokens, batch_size=self.config.batch_size,
                          seed=self.config.seed)  # one seed: every model answers the same prompts
        write_json(out, result)
        groups = ", ".join(f"{group} {row.get('open', 0):.1f}% (grounded {row.get('open_grounded', 0):+.1f}, "
                           f"MC {row.get('mc', 0):.1f})" for group, row in summarize(result).items())
        self.say(f"{out.relative_to(self.root).with_suffix('')}: {groups}  "
                 + ", ".join(f"{t} {r.get('open', 0):.0f}%" for t, r in result["tasks"].items()))
        return result

    def _train_settings(self, seed: int) -> TrainSettings:
        return TrainSettings(lora=None, learning_rate=self.config.learning_rate, lr_scheduler="constant",
                             max_steps=self.config.train_steps, batch_size=self.config.batch_size,
                             logging_steps=10, save_steps=10**9, seed=seed)

    def _train_on(self, out: Path, rows: list[dict], seed: int) -> str:
        """Fine-tune the base on ``rows`` with the per-model budget (once: a finished model is reused)."""
        if (out / "model" / "final" / "config.json").exists():
            return str(out / "model" / "final")
        write_jsonl(out / "train.jsonl", rows)
        settings = self._train_settings(seed).model_dump()
        result = train_sft(TrainConfig(**settings, model=str(self.config.base_model), data=out / "train.jsonl",
                                       output_dir=out / "model", frames=DEMO_FRAMES, device="cpu"))
        return str(result.model_dir)

    def _gold_rows(self, seed: int, direct_only: bool) -> list[dict]:
        """The train set's labels as template QA: short answers to direct prompts (the paper's
        Video-LLaVA+ baseline), or the gold answer in the forms evaluation asks: an open answer ending
        in 'Final answer:' and multiple choice (direct supervision)."""
        prompts, samples = Prompts(), load_manifest(self.train)
        pool = answer_pool(samples)
        rows = []
        for sample in samples:
            gold = gold_answer(sample.labels)
            for k, question in enumerate(template_questions(sample, per_sample=2, seed=seed)):
                if direct_only:
                    rows.append({"video": sample.video, "prompt": prompts.direct.format(question=question.text),
                                 "response": gold})
                    continue
                rows.append({"video": sample.video, "prompt": prompts.answer.format(question=question.text),
                             "response": f"Final answer: {gold}"})
                item = mc_item(sample, question.text, pool, np.random.default_rng([seed, len(rows), k]), prompts)
                if item is not None:
                    rows.append({"video": sample.video, "prompt": item[0], "response": item[1].render()})
        return rows

    def _star(self, seed: int, out: Path, prefix: str, evaluate_each: bool, **changes) -> list[dict]:
        """A Video-STaR loop (with ``changes`` to its config); each cycle's metrics and, for every cycle
        (``evaluate_each``) or the last, its held-out evaluation."""
        config = self.config
        generate = GenerateConfig(
            model={"path": str(config.base_model), "device": "cpu", "batch_size": config.batch_size},
            manifest=self.train, run_dir=out, frames=DEMO_FRAMES, batch_size=config.batch_size,
            sampling={"temperature": config.temperature, "max_new_tokens": config.max_new_tokens, "seed": seed},
            samples_per_question=config.samples_per_question, rationalize_samples=config.rationalize_samples,
            steps=changes.pop("steps", ["answer", "rationalize"]))
        star = StarConfig(generate=generate, train=self._train_settings(seed), cycles=config.cycles,
                          forms=config.forms, **changes)
        cycles = []

        def after_cycle(k: int, metrics: dict) -> None:
            last = k + 1 == config.cycles
            evaluation = (self._evaluate(out.parent / "eval" / f"{prefix}cycle_{k + 1}.json", metrics["model"])
                          if evaluate_each or last else None)
            cycles.append({"metrics": metrics, "eval": evaluation})

        StarLoop(star, report=after_cycle, progress=self.progress).run()
        return cycles

    def _grpo(self, seed: int, out: Path) -> str:
        from videostar.rl.config import GRPORunConfig
        from videostar.rl.run import run_grpo

        settings = self.config.grpo.model_dump(exclude={"frames", "seed", "steps"})
        run = GRPORunConfig(**settings, frames=DEMO_FRAMES, seed=seed, steps=self.config.train_steps,
                            model=str(self.config.base_model), manifest=self.train, output_dir=out)
        return str(run_grpo(run).model_dir)

    def _ablation(self, name: str, seed: int, run: Path) -> dict:
        tag = name.replace(" ", "_")
        self.say(f"   ablation: {name} (seed {seed})")
        if name in STAR_ABLATIONS:
            return self._star(seed, run / tag, f"{tag}_", False, **STAR_ABLATIONS[name])[-1]["eval"]
        if name == "direct supervision":
            model = self._train_on(run / tag, self._gold_rows(seed, direct_only=False), seed)
        else:
            model = self._grpo(seed, run / tag)
        return self._evaluate(run / "eval" / f"{tag}.json", model)

    def _repeat(self, seed: int) -> dict:
        """Video-STaR, the baseline and (with ``ablations``) every ablation, trained with ``seed``."""
        run = self.root / f"seed{seed}"
        self.say(f"3. Video-STaR: {self.config.cycles} cycles (seed {seed})")
        cycles = self._star(seed, run / "star", "", True)
        self.say(f"4. baseline: template QA fine-tuned directly, same budget (seed {seed})")
        baseline = self._evaluate(run / "eval" / "baseline.json", self._train_on(
            run / "baseline", self._gold_rows(seed, direct_only=True), seed))
        ablations = {}
        if self.config.ablations:
            self.say(f"5. ablations (seed {seed})")
            ablations = {name: self._ablation(name, seed, run) for name in ABLATIONS}
        return {"cycles": cycles, "baseline": baseline, "ablations": ablations}

    def run(self) -> dict:
        config = self.config
        if not (config.base_model / "config.json").exists():
            raise FileNotFoundError(f"{config.base_model}: no base model (videostar toy pretrain builds it)")
        self.root.mkdir(parents=True, exist_ok=True)
        if not self.train.exists():
            make_toy_dataset(self.train.parent, config.train_videos, seed=config.seed + 1, labeler="demo", split="train")
        if not self.held_out.exists():
            make_toy_dataset(self.held_out.parent, config.eval_videos, seed=config.seed + 2, labeler="demo",
                             split="test")
        self.say(f"1. toy sets: {config.train_videos} train videos, {config.eval_videos} held-out videos (other seed)")
        base = self._evaluate(self.root / "eval" / "base.json", str(config.base_model))
        runs = [self._repeat(config.seed + r) for r in range(config.repeats)]
        first = runs[0]
        evaluations = {"base": base, "baseline": first["baseline"],
                       **{f"cycle_{k + 1}": c["eval"] for k, c in enumerate(first["cycles"])},
                       **{name: evaluation for name, evaluation in first["ablations"].items()}}
        results = {
            "base": summarize(base),
            "baseline": combine([summarize(r["baseline"]) for r in runs]),
            "cycles": [{**combine([summarize(r["cycles"][k]["eval"]) for r in runs]),
                        "answer_yield": first["cycles"][k]["metrics"]["answer_yield"],
                        "train_rows": first["cycles"][k]["metrics"]["train_rows"]} for k in range(len(first["cycles"]))],
            "ablations": {name: combine([summarize(r["ablations"][name]) for r in runs]) for name in first["ablations"]},
            "seeds": [config.seed + r for r in range(config.repeats)],
            "tasks": {name: evaluation["tasks"] for name, evaluation in evaluations.items()},
            "adapted_tasks": list(ADAPTED_TASKS),
            "general_tasks": list(GENERAL_TASKS),
            "config": config.model_dump(mode="json"),
        }
        write_json(self.root / "results.json", results)
        return results
