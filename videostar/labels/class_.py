"""class: a class or short phrase. Parsed: the words of the final-answer line (else of the answer),
each marked negated when a negator comes within 3 words before it in its clause (hyphenated or
spaced pairs also count joined: 'cross-country' names 'crosscountry'). Passes: every
content word (3+ letters, not a stopword) of the value or of one alias fuzzy-matches (ratio >
``class_fuzzy``, after stripping one suffix) a non-negated answer word, and no excluded phrase
(``excludes``: "skiing (not slalom or crosscountry)") is named, non-negated, in the answer.
Graded score: the weakest matched word's fuzzy ratio / 100; 0 when an excluded thing is named."""

from __future__ import annotations

import re
from typing import Literal

import numpy as np
from pydantic import model_validator

from videostar.labels.base import Context, LabelBase, LabelType, NonBlank, verdict
from videostar.verify import parse

STOPWORDS = frozenset(
    "a an the and or but if of at by for with about against between into through during before after "
    "above below to from up down in out on off over under again further then once here there when where "
    "why how all any both each few more most other some such only own same so than too very can will just "
    "should now is are was were be been being have has had having do does did doing this that these those "
    "its it his her their our your my someone something person".split()
)
_SUFFIXES = ("ing", "ed", "es", "s")
_NOT_RE = re.compile(r"^(.*?)\s{0,3}\(\s{0,3}not\s+([^()]*)\)\s*$", re.IGNORECASE | re.DOTALL)
_LIST_SPLIT_RE = re.compile(r"\s*(?:,|\bor\b|\bnor\b|\band\b)\s*", re.IGNORECASE)


def stem(word: str) -> str:
    """Strip one inflection ('playing', 'plays' -> 'play') so word forms fuzzy-match each other."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


class ClassLabel(LabelBase):
    """A class or short phrase ('cartwheel'); ``aliases`` are accepted synonyms, ``excludes`` are
    things the answer must not name. A raw value 'skiing (not slalom or crosscountry)' (Kinetics
    writes classes like this) is read as value 'skiing', excludes ['slalom', 'crosscountry']."""

    type: Literal["class"] = "class"
    value: NonBlank
    aliases: list[str] = []
    excludes: list[str] = []

    @model_validator(mode="before")
    @classmethod
    def _split_not(cls, data):
        if isinstance(data, dict) and isinstance(data.get("value"), str):
            match = _NOT_RE.match(data["value"])
            if match and match.group(1).strip():
                named = [p for p in _LIST_SPLIT_RE.split(match.group(2)) if p.strip()]
                data = {**data, "value": match.group(1), "excludes": [*data.get("excludes", []), *named]}
        return data

    def render(self) -> str:
        return self.value


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


def parse_words(label: ClassLabel, answer: str, ctx: Context):
    """(tokens, negated flags) of the answer region; two words joined by a hyphen or a space also
    count as one ('cross-country' names 'crosscountry')."""
    region = parse.answer_region(answer.replace("’", "'"))
    tokens = parse.words(region)
    tokens += [(a[0] + b[0], a[1], b[2]) for a, b in zip(tokens, tokens[1:]) if b[1] - a[2] == 1
               and region[a[2]] in " -"]
    return tokens, [parse.negated_before(region, start) for _, start, _ in tokens]


def rule(label: ClassLabel, pred, ctx: Context):
    tokens, negated = pred
    threshold = ctx.config.class_fuzzy
    best = None
    for phrase in (label.value, *label.aliases):
        passed, score, matched, reason = _phrase_match(phrase, tokens, negated, threshold)
        if best is None or (passed, score) > (best[0], best[1]):
            best = (passed, score, matched, reason, phrase)
        if passed:
            break
    passed, score, matched, reason, phrase = best
    for excluded in label.excludes if passed else ():
        if _phrase_match(excluded, tokens, negated, threshold)[0]:
            passed, score, reason = False, 0.0, f"the answer names '{excluded}', which the label excludes"
            break
    return verdict(label, "fuzzy_ratio", threshold / 100, score, passed, score,
                   {"phrase": phrase, "matched": matched}, reason)


TYPE = LabelType(
    label=ClassLabel,
    default_name="label",
    questions=(
        "What is the {name} in this video?",
        "Watch the video carefully. What is the {name}?",
        "Based on what happens in the video, identify the {name}.",
    ),
    parse=parse_words,
    rule=rule,
    graded="the weakest label word's fuzzy ratio / 100 (0 when an excluded thing is named)",
)
