"""Extract predictions (numbers, ranges, boxes, words, steps) from a model's free-text answer.

Rules, stated once:
- If the answer has a final-answer marker ("final answer", "answer:", "the answer is",
  "therefore", "in conclusion"), the final-answer line (the rest of the LAST marker's line, or the
  next non-blank line when the marker ends its line) is where predictions are read; only when
  nothing is found there is the whole answer read. Within a region, the LAST candidate
  wins (models state the answer after the reasoning).
- Numbers are digits ("0.45", "72", ".5"), percentages ("45%" -> 45 with percent=True) and number
  words ("seventy-two", "six point five"). A number right after "out of" or "/" is a denominator
  ("6.5 out of 10"), never a prediction.
- Every pass over the text is a linear scan (tokenizing regexes without nested quantifiers), so a
  1 MB or adversarial answer costs linear time; callers also cap the length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MARKER_RE = re.compile(r"final answer|the answer is|answer\s{0,3}:|therefore|in conclusion", re.IGNORECASE)
_DIGIT_RE = re.compile(r"(?<![\w.])[-+]?(?:\d+(?:\.\d+)?|\.\d+)(?![\d])")
_WORD_RE = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
_SECONDS_AFTER_RE = re.compile(r"\s{0,3}(?:s|sec|secs|second|seconds)\b", re.IGNORECASE)
_PERCENT_AFTER_RE = re.compile(r"\s{0,3}(?:%|percent\b)", re.IGNORECASE)
_DENOMINATOR_BEFORE_RE = re.compile(r"(?:out of|/)\s{0,3}$", re.IGNORECASE)
_RANGE_JOIN_RE = re.compile(r"\s{0,3}(?:,|-|–|—|to|and|until|till)\s{0,3}", re.IGNORECASE)
_BOX_JOIN_RE = re.compile(r"\s{0,3},?\s{0,3}")
_STEP_SPLIT_RE = re.compile(
    r"(?:\.(?=\s|$)|;|\n|\bthen\b|\bafter that\b|\bafterwards\b|\bnext\b|\bfinally\b|\bfirst(?:ly)?\b|\bsecond(?:ly)?\b)",
    re.IGNORECASE,
)
_LIST_MARK_RE = re.compile(r"^[ \t]*(?:\d{1,3}[.)]|[-*•])[ \t]+", re.MULTILINE)

_UNITS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * (i + 2) for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())}
_SCALES = {"hundred": 100, "thousand": 1000}
_NUMBER_WORDS = set(_UNITS) | set(_TENS) | set(_SCALES) | {"point"}


@dataclass(frozen=True)
class Number:
    value: float
    start: int  # character span in the text
    end: int
    percent: bool = False
    seconds: bool = False
    denominator: bool = False


def focus_regions(text: str) -> list[str]:
    """Where to look, in order: the final-answer line (if there is a marker), then all the text."""
    last = None
    for last in _MARKER_RE.finditer(text):
        pass
    if last is None:
        return [text]
    rest = text[last.end():].lstrip(" \t:")
    lines = rest.split("\n")
    line = lines[0].strip() or next((l.strip() for l in lines[1:] if l.strip()), "")
    return [line, text]


def _words_to_number(words: list[str]) -> float | None:
    """'seventy two' -> 72, 'six point five' -> 6.5, 'two hundred and five' -> 205."""
    if "point" in words:
        i = words.index("point")
        whole = _words_to_number(words[:i]) if i else 0.0
        digits = [_UNITS.get(w) for w in words[i + 1:]]
        if whole is None or not digits or any(d is None or d > 9 for d in digits):
            return None
        return whole + float("0." + "".join(str(d) for d in digits))
    total, current = 0, 0
    for w in words:
        if w in _UNITS:
            current += _UNITS[w]
        elif w in _TENS:
            current += _TENS[w]
        elif w in _SCALES:
            current = max(current, 1) * _SCALES[w]
            if _SCALES[w] == 1000:
                total, current = total + current, 0
        else:
            return None
    return float(total + current)


def _word_numbers(text: str) -> list[tuple[float, int, int]]:
    """Runs of number words joined by spaces, hyphens or 'and'."""
    found, run = [], []
    for m in _WORD_RE.finditer(text):
        word = m.group().lower()
        if word in _NUMBER_WORDS:
            if run and text[run[-1][2]:m.start()].strip(" -").lower() not in ("", "and"):
                found.append(run)
                run = []
            run.append((word, m.start(), m.end()))
        elif word == "and" and run:
            continue
        elif run:
            found.append(run)
            run = []
    if run:
        found.append(run)
    out = []
    for run in found:
        value = _words_to_number([w for w, _, _ in run])
        if value is not None:
            out.append((value, run[0][1], run[-1][2]))
    return out


def numbers(text: str) -> list[Number]:
    """Every number in the text, in order of position, with its unit hints."""
    spans = [(float(m.group()), m.start(), m.end()) for m in _DIGIT_RE.finditer(text)]
    spans += _word_numbers(text)
    out = []
    for value, start, end in sorted(spans, key=lambda s: s[1]):
        after = text[end:end + 12]
        percent = bool(_PERCENT_AFTER_RE.match(after))
        seconds = not percent and bool(_SECONDS_AFTER_RE.match(after))
        denominator = bool(_DENOMINATOR_BEFORE_RE.search(text[max(0, start - 10):start]))
        out.append(Number(value, start, end, percent, seconds, denominator))
    return out


def number_pairs(text: str, nums: list[Number] | None = None) -> list[tuple[Number, Number]]:
    """Consecutive numbers joined by a range connector ('0.2 to 0.45', '[3.1, 7]', '3s-7s')."""
    nums = numbers(text) if nums is None else nums
    pairs = []
    for a, b in zip(nums, nums[1:]):
        between = text[a.end:b.start]
        if a.seconds:
            between = _SECONDS_AFTER_RE.sub("", between, count=1)
        if a.percent:
            between = _PERCENT_AFTER_RE.sub("", between, count=1)
        if _RANGE_JOIN_RE.fullmatch(between):
            pairs.append((a, b))
    return pairs


def boxes(text: str) -> list[tuple[float, float, float, float]]:
    """Runs of four numbers separated by commas or spaces ('[0.1, 0.2, 0.5, 0.6]', '0.1 0.2 0.5 0.6')."""
    nums = numbers(text)
    found = []
    for i in range(len(nums) - 3):
        window = nums[i:i + 4]
        if all(_BOX_JOIN_RE.fullmatch(text[a.end:b.start]) for a, b in zip(window, window[1:])):
            found.append(tuple(n.value for n in window))
    return found


def words(text: str) -> list[tuple[str, int, int]]:
    """Lower-cased word tokens with their spans (apostrophes kept: "isn't")."""
    return [(m.group().lower(), m.start(), m.end()) for m in _WORD_RE.finditer(text)]


def steps(text: str) -> list[str]:
    """Split an answer into ordered steps: sentences, lines, 'then'/'next'/'finally' clauses."""
    parts = (p.strip(" ,:-") for p in _STEP_SPLIT_RE.split(_LIST_MARK_RE.sub("", text)))
    return [p for p in parts if len(p) >= 2]
