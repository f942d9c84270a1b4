"""Held-out accuracy per task, with the same verifiers and frame sampling as generation.

Open answers: each sample's question (its dataset question, else its first template) with the
step-by-step answer prompt, greedy decoding, scored by the label verifiers (the verifier pass rate).
Multiple choice: the same question with the gold answer among up to 3 other answers of the same
task; correct when the reply picks the gold option's letter. Works for any backend and manifest,
through the same engine as generation: batches by clip (two segments of one video are two clips),
times read against the clip's own duration, unreadable clips skipped and listed.
"""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np

from videostar.data.manifest import Sample
from videostar.engine.step import replies, verdicts
from videostar.engine.work import ClipFrames, Work, batches
from videostar.models.backend import Backend, SamplingParams
from videostar.prompts import Prompts, gold_answer
from videostar.star.questions import template_questions
from videostar.star.trainset import answer_pool, format_options, multiple_choice, pool_key
from videostar.verify.verifier import Verifier
from videostar.video.sampling import FrameSampling

_LETTER_RE = re.compile(r"\(([A-D])\)|\b([A-D])\b")


def chosen_letter(reply: str) -> str | None:
    """The option letter a reply picks: '(B)', 'B', 'B)'; the first one wins."""
    match = _LETTER_RE.search(reply)
    return (match.group(1) or match.group(2)) if match else None


def evaluate(backend: Backend, samples: list[Sample], frames: FrameSampling, verifier: Verifier | None = None,
             cache_dir=None, max_new_tokens: int = 64, batch_size: int = 32, modes=("open", "mc"),
             seed: int = 0, examples: int = 3, prompts: Prompts | None = None) -> dict:
    """{"tasks": {task: {"n", "open", "mc"}}, "open": mean, "mc": mean, "examples": [...],
    "skipped": [{"sample", "video", "reason"}]} (accuracies in %). Clips that cannot be decoded are
    left out of the accuracies and listed under "skipped"."""
    verifier = verifier or Verifier()
    prompts = prompts or Prompts()
    params = SamplingParams(temperature=0.0, max_new_tokens=max_new_tokens, seed=seed)
    pool = answer_pool(samples)
    jobs = []  # (mode, work, answer letter for mc); a work item's index is its job's position
    for sample in samples:
        question = template_questions(sample, per_sample=1, seed=seed)[0].text
        if "open" in modes:
            jobs.append(("open", Work(sample, prompts.answer.format(question=question), index=len(jobs)), None))
        choice = multiple_choice(gold_answer(sample.labels), pool[pool_key(sample)],
                                 np.random.default_rng([seed, len(jobs)])) if "mc" in modes else None
        if choice is not None:
            options, letter = choice
            prompt = prompts.multiple_choice.format(question=question, options=format_options(options))
            jobs.append(("mc", Work(sample, prompt, index=len(jobs)), letter))
    correct: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    shown, skipped = [], {}

    def skip(clip_samples, err) -> None:
        skipped.update({s.id: {"sample": s.id, "video": s.video, "reason": err.reason} for s in clip_samples})

    for batch, decoded in batches([work for _, work, _ in jobs], frames, ClipFrames(cache_dir), batch_size, skip):
        texts = [reply.text for reply in replies(batch, decoded, backend, params)]
        opens = [i for i, work in enumerate(batch) if jobs[work.index][0] == "open"]
        checked = verdicts([batch[i] for i in opens], [decoded[i] for i in opens], [texts[i] for i in opens], verifier)
        for i, verdict in zip(opens, checked):
            sample = batch[i].sample
            correct[sample.task]["open"].append(verdict.passed)
            if len(shown) < examples * 2 and sum(e["passed"] == verdict.passed for e in shown) < examples:
                shown.append({"task": sample.task, "question": batch[i].prompt, "answer": texts[i],
                              "label": gold_answer(sample.labels), "passed": verdict.passed,
                              "why": "; ".join(v.reason for v in verdict.labels if v.reason)})
        for work, text in zip(batch, texts):
            mode, _, letter = jobs[work.index]
            if mode == "mc":
                correct[work.sample.task]["mc"].append(chosen_letter(text) == letter)
    tasks = {task: {"n": len(modes_["open"] or modes_["mc"]),
                    **{mode: round(100 * float(np.mean(hits)), 2) for mode, hits in modes_.items() if hits}}
             for task, modes_ in sorted(correct.items())}
    summary = {mode: round(float(np.mean([t[mode] for t in tasks.values() if mode in t])), 2)
               for mode in modes if any(mode in t for t in tasks.values())}
    return {"tasks": tasks, **summary, "examples": shown, "skipped": list(skipped.values())}
