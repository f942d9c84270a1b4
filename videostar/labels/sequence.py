"""sequence: ordered steps. Parsed: the answer split into steps (sentences, lines, then/next/finally
clauses). Rule: the best MONOTONE one-to-one alignment of answer steps to gold steps, maximizing the
summed cosine similarity (pairs below ``sequence_cosine`` cannot be aligned). It passes when every
gold step is aligned and the alignment keeps at least ``sequence_order`` of the similarity the best
alignment IGNORING order reaches: a reversed or shuffled answer loses most of it whenever the steps
are distinguishable, a paraphrase in the right order loses nothing. Steps too alike to tell apart
cannot fail on order. Graded score: the alignment's quality, its summed cosine over the number of
gold steps (unaligned steps count 0), times the order ratio, clipped to 0..1."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from videostar.labels.base import Context, LabelBase, LabelType, NonBlank, failed, verdict
from videostar.verify import parse

MAX_STEPS = 100  # answers split into more steps fail: bounds embedding work on hostile input


class SequenceLabel(LabelBase):
    """An ordered list of phrases (sub-actions, events), first to last."""

    type: Literal["sequence"] = "sequence"
    value: list[NonBlank] = Field(min_length=1)

    def render(self) -> str:
        if len(self.value) == 1:
            return self.value[0]
        return "first " + ", then ".join(self.value)


def monotone_alignment(sim: np.ndarray, threshold: float) -> tuple[float, list[tuple[int, int]]]:
    """Best order-preserving one-to-one alignment of rows to columns: (total similarity, pairs).
    Only pairs with similarity >= threshold may be aligned. O(rows x columns) dynamic programme."""
    n, m = sim.shape
    gain = np.where(sim >= threshold, sim, -np.inf)
    best = np.zeros((n + 1, m + 1))
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            best[i, j] = max(best[i - 1, j], best[i, j - 1], best[i - 1, j - 1] + gain[i - 1, j - 1])
    pairs, i, j = [], n, m
    while i and j:
        if best[i, j] == best[i - 1, j]:
            i -= 1
        elif best[i, j] == best[i, j - 1]:
            j -= 1
        else:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
    return float(best[n, m]), pairs[::-1]


def unordered_alignment(sim: np.ndarray, threshold: float) -> float:
    """Best one-to-one alignment ignoring order (Hungarian), same pair threshold."""
    from scipy.optimize import linear_sum_assignment

    gain = np.where(sim >= threshold, sim, 0.0)
    rows, cols = linear_sum_assignment(gain, maximize=True)
    return float(gain[rows, cols].sum())


def parse_steps(label: SequenceLabel, answer: str, ctx: Context) -> list[str]:
    return parse.steps(parse.answer_region(answer))


def rule(label: SequenceLabel, steps: list[str], ctx: Context):
    threshold, order = ctx.config.sequence_cosine, ctx.config.sequence_order
    if not steps:
        return failed(label, "alignment", order, "no steps found in the answer")
    if len(steps) > MAX_STEPS:
        return failed(label, "alignment", order, f"answer has {len(steps)} steps (> {MAX_STEPS})")
    sim = np.clip(ctx.embedder().similarity(label.value, steps), 0.0, 1.0)  # (gold, answer)
    total, pairs = monotone_alignment(sim, threshold)
    best = unordered_alignment(sim, threshold)
    ratio = total / best if best > 0 else 0.0
    n = len(label.value)
    aligned = len(pairs)
    passed = aligned == n and ratio >= order
    reason = (f"{n - aligned} of {n} gold steps have no answer step in order (cosine >= {threshold})"
              if aligned < n else f"the steps are out of order: the ordered alignment keeps {ratio:.0%} "
                                  f"of the unordered one (< {order:.0%})")
    return verdict(label, "alignment", order, ratio, passed, total / n * ratio,
                   [steps[j] for _, j in pairs], reason)


def _embeds(label: SequenceLabel, answer: str) -> list[str]:
    steps = parse.steps(parse.answer_region(answer))
    return [*label.value, *(steps if len(steps) <= MAX_STEPS else [])]


TYPE = LabelType(
    label=SequenceLabel,
    default_name="steps",
    questions=("List the {name}, from first to last.", "Describe the {name}, in the order they happen."),
    parse=parse_steps,
    rule=rule,
    embeds=_embeds,
    graded="alignment quality: aligned cosine per gold step x order ratio",
)
