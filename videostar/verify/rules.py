"""One rule per label type: does this answer contain this gold label? (METHOD.md's table)

| label | parsed from the answer | passes when |
|---|---|---|
| temporal_range | last pair start < end | 1-D IoU > 0.5 |
| bbox | last [x1, y1, x2, y2] (corners sorted) | 2-D IoU > 0.5 (xyxy everywhere) |
| score | every number (denominators excluded) | some number within 10% relative error |
| timestamp | last number | absolute error <= 0.1 (normalized) |
| text | the answer | embedding cosine >= 0.6 |
| sequence | steps in order | every gold step matched in order, cosine >= 0.25 |
| class | words | every content word fuzzy-matches (ratio > 85, after stripping one suffix) a non-negated answer word |

Each rule returns a ``LabelVerdict``: passed, a 0..1 score (higher is closer), the metric value
and threshold it was judged by, what was parsed, and why it failed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from videostar.data.labels import (
    BBoxLabel,
    ClassLabel,
    Label,
    ScoreLabel,
    SequenceLabel,
    TemporalRangeLabel,
    TextLabel,
    TimestampLabel,
)
from videostar.verify import parse
from videostar.verify.embed import Embedder

STOPWORDS = frozenset(
    "a an the and or but if of at by for with about against between into through during before after "
    "above below to from up down in out on off over under again further then once here there when where "
    "why how all any both each few more most other some such only own same so than too very can will just "
    "should now is are was were be been being have has had having do does did doing this that these those "
    "its it his her their our your my someone something person".split()
)
NEGATORS = frozenset(
    "not no never nor neither without cannot isn't aren't wasn't weren't doesn't don't didn't can't "
    "won't hasn't haven't hadn't shouldn't wouldn't couldn't none".split()
)
_CLAUSE_BREAKS = frozenset(",.;:!?")
NEGATION_WINDOW = 3  # tokens before a word that can negate it, within its clause
MAX_STEPS = 100  # answers split into more steps fail: bounds embedding work on hostile input
_SUFFIXES = ("ing", "ed", "es", "s")


def stem(word: str) -> str:
    """Strip one inflection ('playing', 'plays' -> 'play') so word forms fuzzy-match each other."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


@dataclass(frozen=True)
class LabelVerdict:
    type: str
    name: str | None
    passed: bool
    score: float  # 0..1, higher is closer to the label
    metric: str  # what was compared: "iou", "relative_error", "cosine", ...
    value: float | None  # the metric's value (None when nothing could be parsed)
    threshold: float
    parsed: Any
    reason: str  # "" when passed

    def to_json(self) -> dict:
        return asdict(self)


def _verdict(label: Label, metric: str, threshold: float, value: float | None, passed: bool, score: float,
             parsed: Any, reason: str = "") -> LabelVerdict:
    return LabelVerdict(label.type, label.name, bool(passed), float(max(0.0, min(1.0, score))), metric,
                        None if value is None else float(value), threshold, parsed, "" if passed else reason)


def failed(label: Label, metric: str, threshold: float, reason: str) -> LabelVerdict:
    return _verdict(label, metric, threshold, None, False, 0.0, None, reason)


def _to_label_time(n: parse.Number, unit: str, duration: float | None) -> float | None:
    """A parsed time in the label's units: normalized (0..1) or, with no duration known, seconds."""
    if unit == "seconds":
        return None if n.percent else n.value
    if n.percent:
        return n.value / 100
    if n.seconds or n.value > 1:
        return n.value / duration if duration else None  # a bare number > 1 can only be seconds
    return n.value


def iou_1d(a: tuple[float, float], b: tuple[float, float]) -> float:
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = (a[1] - a[0]) + (b[1] - b[0]) - inter
    if union <= 0:  # both empty (or too small for floats): the same point or nothing in common
        return 1.0 if tuple(a) == tuple(b) else 0.0
    return inter / union


def iou_2d(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    if union <= 0:
        return 1.0 if tuple(a) == tuple(b) else 0.0
    return inter / union


def relative_error(pred: float, gold: float) -> float:
    """|pred - gold| / |gold|; the absolute error when gold is 0 (relative error is undefined)."""
    return abs(pred - gold) / abs(gold) if gold != 0 else abs(pred - gold)


def verify_temporal_range(label: TemporalRangeLabel, answer: str, duration: float | None, threshold: float) -> LabelVerdict:
    for region in parse.focus_regions(answer):
        ranges = []
        for a, b in parse.number_pairs(region):
            if a.denominator or b.denominator:
                continue
            if a.seconds or b.seconds:  # "from 3.1 to 7s": the unit covers both ends
                a, b = replace(a, seconds=True), replace(b, seconds=True)
            start, end = _to_label_time(a, label.unit, duration), _to_label_time(b, label.unit, duration)
            if start is not None and end is not None and start < end:
                ranges.append((start, end))
        if ranges:
            pred = ranges[-1]
            iou = iou_1d(pred, label.value)
            return _verdict(label, "iou", threshold, iou, iou > threshold, iou, list(pred),
                            f"IoU {iou:.2f} <= {threshold} with {list(label.value)}")
    return failed(label, "iou", threshold, "no time range (start < end) found in the answer")


def verify_bbox(label: BBoxLabel, answer: str, threshold: float) -> LabelVerdict:
    for region in parse.focus_regions(answer):
        found = parse.boxes(region)
        if found:
            x1, y1, x2, y2 = found[-1]
            pred = (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))  # swapped corners: same box
            if any(c < 0 or c > 1 for c in pred):
                return _verdict(label, "iou", threshold, 0.0, False, 0.0, list(pred),
                                "box coordinates are not normalized to 0..1")
            iou = iou_2d(pred, label.value)
            return _verdict(label, "iou", threshold, iou, iou > threshold, iou, list(pred),
                            f"IoU {iou:.2f} <= {threshold} with {list(label.value)}")
    return failed(label, "iou", threshold, "no box [x1, y1, x2, y2] found in the answer")


def verify_timestamp(label: TimestampLabel, answer: str, duration: float | None, tolerance: float) -> LabelVerdict:
    for region in parse.focus_regions(answer):
        times = [t for n in parse.numbers(region) if not n.denominator
                 if (t := _to_label_time(n, label.unit, duration)) is not None]
        if times:
            error = abs(times[-1] - label.value)
            scale = 1.0 if label.unit == "normalized" else max(duration or label.value, 1e-9)
            return _verdict(label, "absolute_error", tolerance, error, error <= tolerance, 1 - error / scale, times[-1],
                            f"|{times[-1]:.3g} - {label.value:.3g}| = {error:.3g} > {tolerance}")
    return failed(label, "absolute_error", tolerance, "no time found in the answer")


def verify_score(label: ScoreLabel, answer: str, tolerance: float) -> LabelVerdict:
    fraction_scale = label.scale is not None and label.scale[1] <= 1
    for region in parse.focus_regions(answer):
        values = [n.value / 100 if (n.percent and fraction_scale) else n.value
                  for n in parse.numbers(region) if not n.denominator]
        if values:
            best = min(values, key=lambda v: relative_error(v, label.value))
            error = relative_error(best, label.value)
            return _verdict(label, "relative_error", tolerance, error, error <= tolerance, 1 - error, best,
                            f"closest number {best:g} is {error:.0%} from {label.value:g} (> {tolerance:.0%})")
    return failed(label, "relative_error", tolerance, "no number found in the answer")


def _negated_tokens(text: str, tokens: list[tuple[str, int, int]]) -> list[bool]:
    """True for a token preceded, within its clause and NEGATION_WINDOW tokens, by a negator."""
    clause, clauses = 0, []
    for i, (word, start, _) in enumerate(tokens):
        if i and (any(c in _CLAUSE_BREAKS for c in text[tokens[i - 1][2]:start]) or word == "but"):
            clause += 1
        clauses.append(clause)
    return [
        any(tokens[j][0] in NEGATORS and clauses[j] == clauses[i] for j in range(max(0, i - NEGATION_WINDOW), i))
        for i in range(len(tokens))
    ]


def _answer_region(answer: str) -> str:
    """Class, text and sequence rules read the final-answer region alone when there is one."""
    regions = parse.focus_regions(answer)
    return regions[0] if len(regions) > 1 and parse.words(regions[0]) else answer


def _phrase_match(phrase: str, tokens, negated: list[bool], threshold: float) -> tuple[bool, float, list, str]:
    """Every content word of ``phrase`` must fuzzy-match some non-negated answer token."""
    from rapidfuzz import fuzz, process

    words = [w for w, _, _ in parse.words(phrase)]
    content = [w for w in words if len(w) >= 3 and w not in STOPWORDS] or words
    answer_words = [w for w, _, _ in tokens]
    if not content or not answer_words:
        return False, 0.0, [], "label has no words" if not content else "answer has no words"
    scores = process.cdist([stem(w) for w in content], [stem(w) for w in answer_words],
                           scorer=fuzz.ratio, dtype=np.float32)
    usable = np.where(np.asarray(negated)[None, :], 0.0, scores)
    matched, worst = [], 100.0
    for i, word in enumerate(content):
        exact = len(word) < 3  # short words ("up") must match exactly: fuzzy ratios on them are noise
        j = int(usable[i].argmax())
        if not (usable[i, j] >= 100 if exact else usable[i, j] > threshold):
            hit_if_not_negated = scores[i].max() >= 100 if exact else scores[i].max() > threshold
            reason = f"'{word}' is negated in the answer" if hit_if_not_negated else f"'{word}' not found in the answer"
            return False, float(usable[i, j]) / 100, matched, reason
        matched.append(answer_words[j])
        worst = min(worst, float(usable[i, j]))
    return True, worst / 100, matched, ""


def verify_class(label: ClassLabel, answer: str, threshold: float) -> LabelVerdict:
    region = _answer_region(answer.replace("’", "'"))
    tokens = parse.words(region)
    negated = _negated_tokens(region, tokens)
    best = None
    for phrase in (label.value, *label.aliases):
        passed, score, matched, reason = _phrase_match(phrase, tokens, negated, threshold)
        if best is None or (passed, score) > (best[0], best[1]):
            best = (passed, score, matched, reason, phrase)
        if passed:
            break
    passed, score, matched, reason, phrase = best
    return _verdict(label, "fuzzy_ratio", threshold / 100, score, passed, score,
                    {"phrase": phrase, "matched": matched}, reason)


def text_inputs(label: TextLabel, answer: str) -> list[str]:
    return [label.value, _answer_region(answer)]


def verify_text(label: TextLabel, answer: str, embedder: Embedder, threshold: float) -> LabelVerdict:
    gold, region = text_inputs(label, answer)
    if not region.strip():
        return failed(label, "cosine", threshold, "empty answer")
    cosine = float(embedder.similarity([gold], [region])[0, 0])
    return _verdict(label, "cosine", threshold, cosine, cosine >= threshold, cosine, region[:200],
                    f"cosine {cosine:.2f} < {threshold}")


def sequence_inputs(label: SequenceLabel, answer: str) -> list[str]:
    steps = parse.steps(_answer_region(answer))
    return [*label.value, *(steps if len(steps) <= MAX_STEPS else [])]


def verify_sequence(label: SequenceLabel, answer: str, embedder: Embedder, threshold: float) -> LabelVerdict:
    steps = parse.steps(_answer_region(answer))
    if not steps:
        return failed(label, "steps_in_order", threshold, "no steps found in the answer")
    if len(steps) > MAX_STEPS:
        return failed(label, "steps_in_order", threshold, f"answer has {len(steps)} steps (> {MAX_STEPS})")
    ok = embedder.similarity(label.value, steps) >= threshold  # (gold, answer)
    # most gold steps matchable in order (a longest-common-subsequence over similar pairs)
    n, m = ok.shape
    best = np.zeros((n + 1, m + 1), dtype=np.int32)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            best[i, j] = max(best[i - 1, j], best[i, j - 1], best[i - 1, j - 1] + int(ok[i - 1, j - 1]))
    matched = int(best[n, m])
    return _verdict(label, "steps_in_order", threshold, matched / n, matched == n, matched / n, steps,
                    f"{matched} of {n} steps found in order (cosine >= {threshold})")
