"""Held-out accuracy per task, with the same verifiers and frame sampling as generation.

Open answers: each sample's question (its dataset question, else its first template) with the
step-by-step answer prompt, greedy decoding, scored by the label verifiers (the verifier pass rate).
Multiple choice: the same question with the gold answer among up to 3 other answers of the same
task; correct when the reply picks the gold option's letter. Works for any backend and manifest.
"""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np

from videostar.data.manifest import Sample
from videostar.models.backend import Backend, GenRequest, SamplingParams
from videostar.prompts import Prompts, gold_answer
from videostar.star.questions import template_questions
from videostar.star.trainset import answer_pool, format_options, multiple_choice, pool_key
from videostar.verify.verifier import Verifier, VerifyItem
from videostar.video.cache import FrameCache
from videostar.video.decode import decode
from videostar.video.sampling import FrameSampling

_LETTER_RE = re.compile(r"\(([A-D])\)|\b([A-D])\b")


def chosen_letter(reply: str) -> str | None:
    """The option letter a reply picks: '(B)', 'B', 'B)'; the first one wins."""
    match = _LETTER_RE.search(reply)
    return (match.group(1) or match.group(2)) if match else None


def evaluate(backend: Backend, samples: list[Sample], frames: FrameSampling, verifier: Verifier | None = None,
             cache_dir=None, max_new_tokens: int = 64, batch_size: int = 32, modes=("open", "mc"),
             seed: int = 0, examples: int = 3) -> dict:
    """{"tasks": {task: {"n", "open", "mc"}}, "open": mean, "mc": mean, "examples": [...]} (accuracies in %)."""
    verifier = verifier or Verifier()
    prompts = Prompts()
    load = FrameCache(cache_dir).load if cache_dir else decode
    params = SamplingParams(temperature=0.0, max_new_tokens=max_new_tokens, seed=seed)
    pool = answer_pool(samples)
    jobs = []  # (mode, sample, prompt, answer letter for mc)
    for sample in samples:
        question = template_questions(sample, per_sample=1, seed=seed)[0].text
        if "open" in modes:
            jobs.append(("open", sample, prompts.answer.format(question=question), None))
        choice = multiple_choice(gold_answer(sample.labels), pool[pool_key(sample)],
                                 np.random.default_rng([seed, len(jobs)])) if "mc" in modes else None
        if choice is not None:
            options, letter = choice
            jobs.append(("mc", sample, prompts.multiple_choice.format(question=question,
                                                                      options=format_options(options)), letter))
    jobs.sort(key=lambda job: job[1].video)
    correct: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    shown = []
    for start in range(0, len(jobs), batch_size):
        batch = jobs[start:start + batch_size]
        decoded = {}
        for _, sample, _, _ in batch:
            if sample.video not in decoded:
                decoded[sample.video] = load(sample.video, frames, sample.segment, fps=sample.fps)
        replies = backend.generate([GenRequest([{"role": "user", "content": prompt}], decoded[s.video])
                                    for _, s, prompt, _ in batch], params)
        opens = [(job, reply) for job, reply in zip(batch, replies) if job[0] == "open"]
        verdicts = verifier.verify_many(VerifyItem(job[1].labels, reply.text, decoded[job[1].video].info.duration,
                                                   job[1].task) for job, reply in opens)
        for (job, reply), verdict in zip(opens, verdicts):
            correct[job[1].task]["open"].append(verdict.passed)
            if len(shown) < examples * 2 and sum(e["passed"] == verdict.passed for e in shown) < examples:
                shown.append({"task": job[1].task, "question": job[2], "answer": reply.text,
                              "label": gold_answer(job[1].labels), "passed": verdict.passed,
                              "why": "; ".join(v.reason for v in verdict.labels if v.reason)})
        for job, reply in zip(batch, replies):
            if job[0] == "mc":
                correct[job[1].task]["mc"].append(chosen_letter(reply.text) == job[3])
    tasks = {task: {"n": len(modes_["open"] or modes_["mc"]),
                    **{mode: round(100 * float(np.mean(hits)), 2) for mode, hits in modes_.items() if hits}}
             for task, modes_ in sorted(correct.items())}
    summary = {mode: round(float(np.mean([t[mode] for t in tasks.values() if mode in t])), 2)
               for mode in modes if any(mode in t for t in tasks.values())}
    return {"tasks": tasks, **summary, "examples": shown}
