"""choice: a multiple-choice answer (STAR, NExT-QA, MVBench-style). Parsed: the options the answer
picks, by letter ("(B)", "[B]", "B.", "B)", "**B**", "Answer: B", "option B") or by an option's
full text, ignoring negated mentions ("not (A)"); read from the final-answer line, else the last
line, else the whole answer. Passes: exactly the correct option is picked (another option, or
several, fail). Graded score: 1 or 0."""

from __future__ import annotations

import re
import string
from typing import Literal

from pydantic import Field, model_validator

from videostar.labels.base import Context, LabelBase, LabelType, NonBlank, failed, verdict
from videostar.verify import parse

LETTERS = string.ascii_uppercase
_LETTER_RES = (
    re.compile(r"(?<![A-Za-z0-9])[(\[]\s?([A-Z])\s?[)\]](?![A-Za-z])"),  # (B) [B]
    re.compile(r"(?<![A-Za-z0-9'(\[])([A-Z])(?=[.):,]|\*\*|\s*$)"),  # B. B) B: B, **B** and a final B
    re.compile(r"(?<![A-Za-z0-9'(\[])([A-Z])(?=\s{1,3}(?:or|and|/)\s{1,3}[(\[]?[A-Z]\b)"),  # A or B
    re.compile(r"\b(?:option|choice|letter)\s{0,3}[:#]?\s{0,3}\(?([A-Za-z])\b", re.IGNORECASE),  # option B
)
_ARTICLES = {"the", "a", "an"}


class ChoiceLabel(LabelBase):
    """A multiple-choice answer: ``value`` is the correct option's text, ``options`` every option in
    the order the dataset lists them (so option letters A, B, C... mean what the dataset meant)."""

    type: Literal["choice"] = "choice"
    value: NonBlank
    options: list[NonBlank] = Field(min_length=2, max_length=len(LETTERS))

    @model_validator(mode="after")
    def _value_is_an_option(self) -> "ChoiceLabel":
        if self.value not in self.options:
            raise ValueError(f"value: {self.value!r} is not one of the options {self.options}")
        if len(set(self.options)) != len(self.options):
            raise ValueError(f"options: must be distinct, got {self.options}")
        return self

    @property
    def letter(self) -> str:
        return LETTERS[self.options.index(self.value)]

    def render(self) -> str:
        return f"({self.letter}) {self.value}"


def format_options(options: list[str]) -> str:
    """'(A) first\\n(B) second...': how every question lists options."""
    return "\n".join(f"({LETTERS[i]}) {o}" for i, o in enumerate(options))


def _option_pattern(option: str) -> re.Pattern | None:
    words = [w for w, _, _ in parse.words(option)]
    if len(words) > 1 and words[0] in _ARTICLES:
        words = words[1:]
    if not words:
        return None
    return re.compile(r"(?<!\w)" + r"\W{1,3}".join(map(re.escape, words)) + r"(?!\w)", re.IGNORECASE)


def picked(options: list[str], region: str) -> list[int]:
    """Indices of the options a piece of text picks (non-negated mentions by letter or full text)."""
    found: set[int] = set()
    for pattern in _LETTER_RES:
        for m in pattern.finditer(region):
            index = LETTERS.find(m.group(1).upper())
            if 0 <= index < len(options) and not parse.negated_before(region, m.start()):
                found.add(index)
    spans = []
    for index, option in enumerate(options):
        pattern = _option_pattern(option)
        for m in pattern.finditer(region) if pattern else ():
            if not parse.negated_before(region, m.start()):
                spans.append((m.start(), m.end(), index))
    reach = -1  # "cup" inside a mention of "cup of tea" is not a pick of "cup": skip mentions inside earlier ones
    for start, end, index in sorted(spans, key=lambda span: (span[0], -span[1])):
        if end > reach:
            found.add(index)
        reach = max(reach, end)
    return sorted(found)


def parse_choice(label: ChoiceLabel, answer: str, ctx: Context) -> list[int]:
    regions = parse.focus_regions(answer)
    if len(regions) == 1:
        lines = [line for line in answer.splitlines() if line.strip()]
        regions = [lines[-1], answer] if len(lines) > 1 else [answer]
    for region in regions:
        found = picked(label.options, region)
        if found:
            return found
    return []


def rule(label: ChoiceLabel, pred: list[int], ctx: Context):
    if not pred:
        return failed(label, "choice", 1.0, "no option picked in the answer")
    letters = [LETTERS[i] for i in pred]
    passed = letters == [label.letter]
    reason = (f"picks several options ({', '.join(letters)})" if len(letters) > 1
              else f"picks ({letters[0]}), the correct option is ({label.letter})")
    return verdict(label, "choice", 1.0, float(passed), passed, float(passed), letters, reason)


TYPE = LabelType(
    label=ChoiceLabel,
    default_name="answer",
    questions=(
        "Which option is the {name} for this video? Answer with the option's letter.",
        "Watch the video and choose the correct {name}. Answer with the option's letter.",
    ),
    question_extra=lambda label: "\nOptions:\n" + format_options(label.options),
    parse=parse_choice,
    rule=rule,
    graded="1 when exactly the correct option is picked, else 0",
)
