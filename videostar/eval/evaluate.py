"""Held-out accuracy per task, with the same verifiers and frame sampling as generation.

Open answers: each sample's question (its dataset question, else its first template) with the
step-by-step answer prompt, greedy decoding, scored by the label verifiers (the verifier pass rate).
Multiple choice: the same question with the gold answer among up to 3 other answers of the same
task (a choice label brings its own options); correct when the verifier's choice rule finds that the
reply picks exactly the correct option, by letter or by text. Works for any backend and manifest,
through the same engine as generation: batches by clip (two segments of one video are two clips),
times read against the clip's own duration, unreadable clips skipped and listed.

Video-grounded accuracy: a model can score well by answer format and by always giving the common
answer, without looking. So every prompt is asked twice, once about its own clip and once about
another held-out sample's clip of the same task (a fixed, seeded derangement: no sample keeps its
clip; question, options and labels unchanged). ``grounded = real - swapped`` is what the video
itself is worth; the majority answer's rate is the floor a blind model reaches.
"""

from __future__ import annotations

import pickle
import zlib
from collections import Counter, defaultdict

import numpy as np

from videostar.config import RayConfig
from videostar.data.manifest import Sample
from videostar.engine.step import replies, verdicts
from videostar.engine.work import Clip, ClipFrames, Work, batches, plan
from videostar.models import ModelConfig
from videostar.models.backend import Backend, SamplingParams
from videostar.prompts import Prompts, gold_answer
from videostar.star.questions import template_questions
from videostar.star.trainset import answer_pool, mc_item
from videostar.verify.verifier import Verifier, VerifierConfig, VerifyItem
from videostar.video.sampling import FrameSampling

def majority_rates(samples: list[Sample]) -> dict[str, float]:
    """Per task, the accuracy (%) of always giving its most common gold answer: a blind model's floor."""
    answers: dict[str, Counter] = defaultdict(Counter)
    for sample in samples:
        answers[sample.task][gold_answer(sample.labels)] += 1
    return {task: round(100 * max(c.values()) / sum(c.values()), 2) for task, c in sorted(answers.items())}


def swapped_clips(samples: list[Sample], seed: int = 0) -> dict[str, Sample]:
    """{sample id: the sample with another sample's clip (video, segment, fps, duration)}, within each
    task, fixed for a seed. Samples are shuffled in groups of identical clips and each takes the clip
    ``m`` places on (``m``: the largest group), so no sample keeps its own clip. A task where one clip
    holds more than half the samples cannot be deranged and is left out."""
    by_task: dict[str, dict[Clip, list[Sample]]] = defaultdict(lambda: defaultdict(list))
    for sample in sorted(samples, key=lambda s: s.id):
        by_task[sample.task][Clip.of(sample, None)].append(sample)
    out = {}
    for task, groups in sorted(by_task.items()):
        rng = np.random.default_rng([seed, zlib.crc32(task.encode())])
        clips = list(groups.values())
        order = [clips[i] for i in rng.permutation(len(clips))]
        ring = [s for group in order for s in (group[i] for i in rng.permutation(len(group)))]
        shift = max(len(g) for g in order)
        if 2 * shift > len(ring):
            continue
        for i, sample in enumerate(ring):
            donor = ring[(i + shift) % len(ring)]
            meta = {k: v for k, v in sample.meta.items() if k != "fps"} | ({"fps": donor.fps} if donor.fps else {})
            out[sample.id] = sample.model_copy(update={"video": donor.video, "segment": donor.segment,
                                                       "duration": donor.duration, "meta": meta})
    return out


def _accuracy(hits: list[bool]) -> float:
    return round(100 * float(np.mean(hits)), 2)


def _scores(modes_: dict[str, list[bool]], mode: str) -> dict[str, float]:
    """{mode, mode_swapped, mode_grounded} (%) from the hits of one mode, real and swapped."""
    if not modes_.get(mode):
        return {}
    row = {mode: _accuracy(modes_[mode])}
    if modes_.get(f"{mode}_swapped"):
        row[f"{mode}_swapped"] = _accuracy(modes_[f"{mode}_swapped"])
        row[f"{mode}_grounded"] = round(row[mode] - row[f"{mode}_swapped"], 2)
    return row


def evaluate(backend: Backend | ModelConfig, samples: list[Sample], frames: FrameSampling, verifier: Verifier | None = None,
             cache_dir=None, max_new_tokens: int = 64, batch_size: int = 32, modes=("open", "mc"),
             seed: int = 0, examples: int = 3, prompts: Prompts | None = None, swapped: bool = True,
             ray: RayConfig | None = None) -> dict:
    """{"tasks": {task: {"n", "majority", "open", "mc"}}, "open": mean, "mc": mean, "majority": mean,
    "examples": [...], "skipped": [{"sample", "video", "reason"}]} (accuracies in %). With ``swapped``
    each task also has "open_swapped", "open_grounded", "mc_swapped", "mc_grounded" (and their means):
    the same prompts about a deranged clip (``swapped_clips``). Clips that cannot be decoded are left
    out of the accuracies and listed under "skipped". With ``ray`` the jobs run through the Ray Data
    runner's stages and ``backend`` is the ModelConfig each model actor loads (the driver loads none);
    the result is the same as in this process."""
    verifier = verifier or Verifier()
    params = SamplingParams(temperature=0.0, max_new_tokens=max_new_tokens, seed=seed)
    others = swapped_clips(samples, seed) if swapped else {}
    jobs = _jobs(samples, others, prompts or Prompts(), modes, seed)
    kinds, work = [(mode, choice) for mode, _, choice in jobs], [work for _, work, _ in jobs]
    if ray is not None:
        skips, scored = _on_ray(work, kinds, frames, backend, params, verifier, cache_dir, batch_size, ray)
    else:
        skips, scored = [], []
        on_skip = lambda clip_samples, err: skips.extend((s, err.reason) for s in clip_samples)
        for batch, decoded in batches(work, frames, ClipFrames(cache_dir), batch_size, on_skip):
            texts = [reply.text for reply in replies(batch, decoded, backend, params)]
            scored.append((batch, texts, score(batch, decoded, texts, kinds, verifier)))
    return _summary(samples, others, kinds, skips, scored, modes, examples)


def _jobs(samples: list[Sample], others: dict[str, Sample], prompts: Prompts, modes, seed: int) -> list[tuple]:
    """(mode, work, the correct option as a ChoiceLabel for mc) per prompt, real and swapped; a work
    item's index is its job's position."""
    pool = answer_pool(samples)
    jobs = []

    def ask(mode: str, sample: Sample, prompt: str, choice=None) -> None:
        jobs.append((mode, Work(sample, prompt, index=len(jobs)), choice))
        if sample.id in others:
            jobs.append((f"{mode}_swapped", Work(others[sample.id], prompt, index=len(jobs)), choice))

    for sample in samples:
        question = template_questions(sample, per_sample=1, seed=seed)[0].text
        if "open" in modes:
            ask("open", sample, prompts.answer.format(question=question))
        item = mc_item(sample, question, pool, np.random.default_rng([seed, len(jobs)]), prompts,
                       min_options=2) if "mc" in modes else None
        if item is not None:
            ask("mc", sample, *item)
    return jobs


def score(batch: list[Work], frames: list, texts: list[str], kinds: list[tuple], verifier: Verifier) -> list[tuple[bool, str]]:
    """(passed, why) per reply: open answers by the label verifiers, multiple choice by the choice
    rule (``kinds[work.index]``: the job's mode and correct option)."""
    out: list = [None] * len(batch)
    opens = [i for i, work in enumerate(batch) if kinds[work.index][0].startswith("open")]
    checked = verdicts([batch[i] for i in opens], [frames[i] for i in opens], [texts[i] for i in opens], verifier)
    for i, verdict in zip(opens, checked):
        out[i] = (verdict.passed, "; ".join(v.reason for v in verdict.labels if v.reason))
    mcs = [i for i, work in enumerate(batch) if kinds[work.index][0].startswith("mc")]
    for i, verdict in zip(mcs, verifier.verify_many(VerifyItem([kinds[batch[i].index][1]], texts[i]) for i in mcs)):
        out[i] = (verdict.passed, "")
    return out


def _on_ray(work, kinds, frames, model: ModelConfig, params, verifier: Verifier, cache_dir, batch_size: int,
            settings: RayConfig) -> tuple[list, list]:
    """``evaluate``'s skips and scored batches from the Ray Data runner's decode tasks and model
    actors, scored in ``_Score`` actors (each builds its verifier from ``verifier.config``); put back
    in plan order, so examples and skips come out as in this process."""
    from videostar.engine.ray_runner import stream

    outs = sorted(stream(plan(work, frames, batch_size), frames, model, params, settings, _Score,
                         {"kinds": kinds, "verifier": verifier.config}, cache_dir=cache_dir),
                  key=lambda out: out["position"])
    skips = [skip for out in outs for skip in pickle.loads(out["skipped"])]
    return skips, [pickle.loads(out["scored"]) for out in outs]


class _Score:
    """The Ray pipeline's last stage for evaluation: replies scored on CPU, nothing written."""

    def __init__(self, kinds: list[tuple], verifier: VerifierConfig):
        from videostar.engine.engine import make_verifier

        self.kinds, self.verifier = kinds, make_verifier(verifier)

    def __call__(self, item: dict) -> dict:
        batch = pickle.loads(item["kept"])
        texts = [reply.text for reply in pickle.loads(item["replies"])]
        scored = (batch, texts, score(batch, pickle.loads(item["frames"]), texts, self.kinds, self.verifier))
        return {"position": item["position"], "skipped": item["skipped"], "scored": pickle.dumps(scored)}


def _summary(samples, others, kinds, skips, scored, modes, examples: int) -> dict:
    """The result dict from the skipped clips' samples [(sample, reason)] and the scored batches
    [(batch, texts, [(passed, why)])], both in plan order."""
    correct: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    shown = []
    # a swapped sample's clip is another sample's own: listed there (compared by value: Ray sends copies)
    skipped = {s.id: {"sample": s.id, "video": s.video, "reason": reason}
               for s, reason in skips if s != others.get(s.id)}
    for batch, texts, outcomes in scored:
        for work, text, (passed, why) in zip(batch, texts, outcomes):
            mode = kinds[work.index][0]
            correct[work.sample.task][mode].append(passed)
            if mode == "open" and len(shown) < examples * 2 and sum(e["passed"] == passed for e in shown) < examples:
                shown.append({"task": work.sample.task, "question": work.prompt, "answer": text,
                              "label": gold_answer(work.sample.labels), "passed": passed, "why": why})
    floors = majority_rates(samples)
    tasks = {task: {"n": len(modes_["open"] or modes_["mc"]), "majority": floors[task],
                    **{k: v for mode in modes for k, v in _scores(modes_, mode).items()}}
             for task, modes_ in sorted(correct.items())}
    keys = [k for mode in modes for k in (mode, f"{mode}_swapped", f"{mode}_grounded")] + ["majority"]
    summary = {key: round(float(np.mean([t[key] for t in tasks.values() if key in t])), 2)
               for key in keys if any(key in t for t in tasks.values())}
    return {"tasks": tasks, **summary, "examples": shown, "skipped": list(skipped.values())}


def grounded_table(result: dict, modes=("open", "mc")):
    """A rich table of ``evaluate``'s result: per task and overall, real / swapped / grounded accuracy
    per mode beside the majority-answer floor."""
    from rich.table import Table

    names = {"open": "open", "mc": "multiple choice"}
    table = Table("task", "n", "majority %", *[f"{names[m]} {part} %" for m in modes for part in ("real", "swapped", "grounded")])
    cell = lambda row, key: "-" if row.get(key) is None else f"{row[key]:.1f}"
    for task, row in [*result["tasks"].items(), ("mean", {"n": sum(r["n"] for r in result["tasks"].values()), **result})]:
        table.add_row(task, str(row["n"]), cell(row, "majority"),
                      *[cell(row, f"{m}{suffix}") for m in modes for suffix in ("", "_swapped", "_grounded")])
    return table
