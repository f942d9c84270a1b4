"""Training examples from kept generations, in the three forms the paper used.

- ``cot``: the answer prompt and the verified step-by-step answer (rationalizations are stored under
  the plain answer prompt, without the gold hint they were written with: STaR's rule);
- ``direct``: the question and the gold label as a short answer;
- ``mc``: the question with 4 options (the gold label and 3 distractors drawn from other labels
  of the same type and task) and the correct letter; a sample whose label is a ``choice`` uses its
  own options, in the dataset's order (its question already lists them).

``mc_item`` builds the multiple-choice form as a ChoiceLabel, so evaluation can ask the same
question and score the reply with the verifier's choice rule.
"""

from __future__ import annotations

import hashlib
from typing import Iterable

import numpy as np

from videostar.data.labels import ChoiceLabel
from videostar.data.manifest import Sample
from videostar.labels.choice import LETTERS, format_options
from videostar.prompts import Prompts, gold_answer
from videostar.store.ledger import Ledger
from videostar.store.records import Example

FORMS = ("cot", "direct", "mc")


def _rng(*parts) -> np.random.Generator:
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def answer_pool(samples: Iterable[Sample]) -> dict[tuple, list[str]]:
    """Distinct rendered answers per (task, label types): where distractors come from."""
    pool: dict[tuple, list[str]] = {}
    for sample in samples:
        answers = pool.setdefault(pool_key(sample), [])
        text = gold_answer(sample.labels)
        if text not in answers:
            answers.append(text)
    return pool


def pool_key(sample: Sample) -> tuple:
    return sample.task, tuple(label.type for label in sample.labels)


def multiple_choice(gold: str, pool: list[str], rng: np.random.Generator, size: int = 4) -> tuple[list[str], str] | None:
    """(options, correct letter): the gold answer and up to ``size - 1`` other answers of its pool,
    shuffled; None when the pool offers no distractor."""
    others = [a for a in pool if a != gold]
    if not others:
        return None
    picked = [others[i] for i in rng.choice(len(others), size=min(size - 1, len(others)), replace=False)] + [gold]
    options = [picked[i] for i in rng.permutation(len(picked))]
    return options, "ABCD"[options.index(gold)]


def mc_item(sample: Sample, question: str, pool: dict[tuple, list[str]], rng: np.random.Generator,
            prompts: Prompts, min_options: int = 4) -> tuple[str, ChoiceLabel] | None:
    """The multiple-choice form of ``question`` about ``sample``: (prompt, the correct option as a
    ChoiceLabel, which the verifier's choice rule scores replies against). A lone choice label brings
    its own options; otherwise the gold answer and up to 3 distractors from its pool (None when that
    makes fewer than ``min_options``: training uses the paper's 4)."""
    if len(sample.labels) == 1 and isinstance(sample.labels[0], ChoiceLabel):
        return prompts.choose.format(question=question), sample.labels[0]
    picked = multiple_choice(gold_answer(sample.labels), pool[pool_key(sample)], rng)
    if picked is None or len(picked[0]) < min_options:
        return None
    options, letter = picked
    label = ChoiceLabel(value=options[LETTERS.index(letter)], options=options)
    return prompts.multiple_choice.format(question=question, options=format_options(options)), label


def build_examples(ledger: Ledger, forms: tuple[str, ...] = FORMS, prompts: Prompts | None = None,
                   seed: int = 0, verified_only: bool = True) -> list[Example]:
    """One example per kept question and form (the first passing generation, answers before rationales).
    ``verified_only=False`` keeps every question's first answer, passed or not (plain self-training)."""
    unknown = set(forms) - set(FORMS)
    if unknown:
        raise ValueError(f"unknown training form(s) {sorted(unknown)}; choose from {FORMS}")
    prompts = prompts or Prompts()
    samples = ledger.samples()
    pool = answer_pool(samples.values())
    kept: dict[str, dict] = {}
    generations = ledger.generations(passed=True) if verified_only else ledger.generations(step="answer")
    for row in generations:  # ordered by insertion: answers come before rationales
        if row["question_id"] not in kept or (kept[row["question_id"]]["step"] == "rationalize" and row["step"] == "answer"):
            kept[row["question_id"]] = row
    examples = []
    for qid, row in kept.items():
        sample = samples[row["sample_id"]]
        base = dict(sample_id=sample.id, video=sample.video, source=row["step"], task=sample.task, segment=sample.segment,
                    fps=sample.fps)
        gold = gold_answer(sample.labels)
        if "cot" in forms:
            examples.append(Example(id=f"{qid}/cot", form="cot", prompt=prompts.answer.format(question=row["question"]),
                                    response=row["text"], **base))
        if "direct" in forms:
            examples.append(Example(id=f"{qid}/direct", form="direct", prompt=prompts.direct.format(question=row["question"]),
                                    response=gold, **base))
        item = mc_item(sample, row["question"], pool, _rng(seed, qid), prompts) if "mc" in forms else None
        if item is not None:
            prompt, choice = item
            examples.append(Example(id=f"{qid}/mc", form="mc", prompt=prompt, response=choice.render(),
                                    meta={"options": list(choice.options), "answer": choice.letter}, **base))
    return examples
