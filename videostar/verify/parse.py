"""Extract predictions (numbers, times, ranges, boxes, words, steps) from a model's free-text answer.

Rules, stated once:
- If the answer has a final-answer marker ("final answer", "answer:", "the answer is",
  "therefore", "in conclusion"), the final-answer line (the rest of the LAST marker's line, or the
  next non-blank line when the marker ends its line) is where predictions are read; only when
  nothing is found there is the whole answer read. Within a region, the LAST candidate
  wins (models state the answer after the reasoning).
- Numbers are digits ("0.45", "72", ".5"), percentages ("45%", "45 percent" -> 45, percent=True),
  number words ("seventy-two", "six point five") and clock times ("1:05", "01:05", "1:02:03" ->
  seconds). A unit after a number marks it as seconds ("3.5 s", "3.5 seconds", "the 3-second
  mark"; "1.5 minutes" and "1 min 30 s" become seconds too). A number right after "out of" or "/"
  is a denominator ("6.5 out of 10"), never a prediction; the number before it records it in
  ``out_of``.
- Ranges: two numbers joined by a connector ("0.2 to 0.45", "[3.1, 7]", "3s-7s", "1:02–1:07"), or
  a start and an end stated in separate phrases or sentences ("kicks off near 1.2 s ... is over by
  4 s"). A range whose start is negated ("not between 0.2 and 0.5") is not an answer.
- Boxes: four numbers separated by commas/spaces/brackets ("[0.1, 0.2, 0.5, 0.6]", "(0.1, 0.2),
  (0.5, 0.6)") or named corners ("x1=0.1, y1=0.2, x2=0.5, y2=0.6", "xmin: ...", "left=...").
- Every pass over the text is a linear scan (tokenizing regexes without nested quantifiers, and
  look-backs of a bounded window), so a 1 MB or adversarial answer costs linear time; callers also
  cap the length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

_MARKER_RE = re.compile(r"final answer|the answer is|answer\s{0,3}:|therefore|in conclusion", re.IGNORECASE)
_DIGIT_RE = re.compile(r"(?<![\w.:])[-+]?(?:\d+(?:\.\d+)?|\.\d+)(?![\d:])")
_CLOCK_RE = re.compile(r"(?<![\w.:])(\d{1,2}):([0-5]\d)(?::([0-5]\d))?(\.\d+)?(?![\w:])")
_WORD_RE = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
_SECONDS_AFTER_RE = re.compile(r"(?:\s{0,3}|-)(?:s|sec|secs|second|seconds)\b", re.IGNORECASE)
_MINUTES_AFTER_RE = re.compile(r"(?:\s{0,3}|-)(?:min|mins|minute|minutes)\b", re.IGNORECASE)
_PERCENT_AFTER_RE = re.compile(r"\s{0,3}(?:%|percent\b)", re.IGNORECASE)
_DENOMINATOR_BEFORE_RE = re.compile(r"(?:out of|/)\s{0,3}$", re.IGNORECASE)
_MIN_SEC_JOIN_RE = re.compile(r"\s{0,3}(?:,|and)?\s{0,3}", re.IGNORECASE)
_RANGE_JOIN_RE = re.compile(r"\s{0,3}(?:,|-|–|—|to|and|until|till|through)\s{0,3}", re.IGNORECASE)
_BOX_JOIN_RE = re.compile(r"[\s,()\[\]]{1,8}")
_NAMED_COORD_RE = re.compile(
    r"\b(x1|y1|x2|y2|x_?min|y_?min|x_?max|y_?max|left|top|right|bottom)\s{0,3}[=:]\s{0,3}"
    r"([-+]?(?:\d+(?:\.\d+)?|\.\d+))", re.IGNORECASE)
_COORD_SLOT = {"x1": 0, "xmin": 0, "x_min": 0, "left": 0, "y1": 1, "ymin": 1, "y_min": 1, "top": 1,
               "x2": 2, "xmax": 2, "x_max": 2, "right": 2, "y2": 3, "ymax": 3, "y_max": 3, "bottom": 3}
_STEP_SPLIT_RE = re.compile(
    r"(?:\.(?=\s|$)|;|\n|\bthen\b|\bafter that\b|\bafterwards\b|\bnext\b|\bfinally\b|\bfirst(?:ly)?\b|\bsecond(?:ly)?\b)",
    re.IGNORECASE,
)
_LIST_MARK_RE = re.compile(r"^[ \t]*(?:\d{1,3}[.)]|[-*•])[ \t]+", re.MULTILINE)
# Phrases that say a number is where something starts or ends ("kicks off near 1.2 s", "is over by 4 s").
_START_CUE_RE = re.compile(r"\b(?:start|starts|started|starting|begin|begins|began|beginning|kicks? off|"
                           r"kicked off|onset|commences?|from|since)\b", re.IGNORECASE)
_END_CUE_RE = re.compile(r"\b(?:end|ends|ended|ending|finish|finishes|finished|over by|over at|stops?|stopped|"
                         r"concludes?|concluded|until|till|done by|completes?|completed)\b", re.IGNORECASE)
_CUE_WINDOW = 40  # characters before a number searched for a start/end cue (same sentence only)
_SENTENCE_BREAK_RE = re.compile(r"[!?;\n]|\.(?=\s)")

_UNITS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * (i + 2) for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())}
_SCALES = {"hundred": 100, "thousand": 1000}
_NUMBER_WORDS = set(_UNITS) | set(_TENS) | set(_SCALES) | {"point"}

NEGATORS = frozenset(
    "not no never nor neither without cannot isn't aren't wasn't weren't doesn't don't didn't can't "
    "won't hasn't haven't hadn't shouldn't wouldn't couldn't none".split()
)
NEGATION_WINDOW = 3  # words before a position that can negate it, within its clause
_CLAUSE_BREAK_RE = re.compile(r"[,.;:!?\n]|\bbut\b", re.IGNORECASE)


@dataclass(frozen=True)
class Number:
    value: float
    start: int  # character span in the text
    end: int
    percent: bool = False
    seconds: bool = False
    denominator: bool = False
    out_of: float | None = None  # "6.5 out of 10": the 10


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


def answer_region(answer: str) -> str:
    """Where word-based rules (class, text, sequence, choice) read: the final-answer line alone when
    there is one with words in it, else the whole answer."""
    regions = focus_regions(answer)
    return regions[0] if len(regions) > 1 and words(regions[0]) else answer


def last_found(answer: str, find):
    """The last of ``find(region)``'s candidates in the first focus region that has any, else None."""
    for region in focus_regions(answer):
        found = find(region)
        if found:
            return found[-1]
    return None


def negated_before(text: str, pos: int) -> bool:
    """True when one of the NEGATION_WINDOW words before ``pos``, within its clause, is a negator."""
    window = text[max(0, pos - 60):pos].replace("’", "'")
    cut = 0
    for cut_match in _CLAUSE_BREAK_RE.finditer(window):
        cut = cut_match.end()
    recent = [m.group().lower() for m in _WORD_RE.finditer(window[cut:])][-NEGATION_WINDOW:]
    return any(w in NEGATORS for w in recent)


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


def _word_numbers(text: str) -> list[tuple[float, int, int, bool]]:
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
            out.append((value, run[0][1], run[-1][2], False))
    return out


def _clock_times(text: str) -> list[tuple[float, int, int, bool]]:
    """'1:05' and '01:05' (m:ss, mm:ss) and '1:02:03' (h:mm:ss), in seconds."""
    out = []
    for m in _CLOCK_RE.finditer(text):
        a, b, c, frac = m.groups()
        seconds = int(a) * 3600 + int(b) * 60 + int(c) if c else int(a) * 60 + int(b)
        out.append((seconds + (float(frac) if frac else 0.0), m.start(), m.end(), True))
    return out


def numbers(text: str) -> list[Number]:
    """Every number in the text, in order of position, with its unit hints."""
    clocks = _clock_times(text)
    spans = [(float(m.group()), m.start(), m.end(), False) for m in _DIGIT_RE.finditer(text)]
    spans += _word_numbers(text) + clocks
    out: list[Number] = []
    minutes_at = -1  # index in ``out`` of the last number stated in minutes
    for value, start, end, clock in sorted(spans, key=lambda s: s[1]):
        after = text[end:end + 12]
        percent = not clock and bool(_PERCENT_AFTER_RE.match(after))
        minutes = None if clock or percent else _MINUTES_AFTER_RE.match(after)
        seconds = clock or (not percent and bool(_SECONDS_AFTER_RE.match(after)))
        denominator = bool(_DENOMINATOR_BEFORE_RE.search(text[max(0, start - 10):start]))
        previous = out[-1] if out else None
        if minutes:  # the unit joins the span, so "1 min 30 s" can merge into 90 s
            value, end, seconds = value * 60, end + minutes.end(), True
        elif seconds and not clock and minutes_at == len(out) - 1 >= 0 \
                and _MIN_SEC_JOIN_RE.fullmatch(text[previous.end:start]):
            out[-1] = replace(previous, value=previous.value + value, end=end)
            minutes_at = -1
            continue
        if denominator and previous is not None and text[previous.end:start].strip(" /").lower() in ("", "out of"):
            out[-1] = replace(previous, out_of=value)
        out.append(Number(value, start, end, percent, seconds, denominator))
        minutes_at = len(out) - 1 if minutes else minutes_at
    return out


def _joined(text: str, a: Number, b: Number) -> bool:
    between = text[a.end:b.start]
    if a.seconds:
        between = _SECONDS_AFTER_RE.sub("", between, count=1)
    if a.percent:
        between = _PERCENT_AFTER_RE.sub("", between, count=1)
    return bool(_RANGE_JOIN_RE.fullmatch(between))


def number_pairs(text: str, nums: list[Number] | None = None) -> list[tuple[Number, Number]]:
    """Consecutive numbers joined by a range connector ('0.2 to 0.45', '[3.1, 7]', '3s-7s')."""
    nums = numbers(text) if nums is None else nums
    return [(a, b) for a, b in zip(nums, nums[1:]) if _joined(text, a, b)]


def _cue(text: str, number: Number, floor: int) -> str | None:
    """'start' or 'end' when the phrase just before ``number`` (same sentence) says which it is."""
    window_start = max(floor, number.start - _CUE_WINDOW)
    window = text[window_start:number.start]
    for br in _SENTENCE_BREAK_RE.finditer(window):
        window_start = window_start + br.end()
    window = text[window_start:number.start]
    last_start = last_end = -1
    for m in _START_CUE_RE.finditer(window):
        last_start = m.start()
    for m in _END_CUE_RE.finditer(window):
        last_end = m.start()
    if last_start < 0 and last_end < 0:
        return None
    return "start" if last_start > last_end else "end"


def ranges(text: str) -> list[tuple[Number, Number]]:
    """Candidate (start, end) ranges in order of where they end: connector pairs and cue pairs
    ('starts at 1.2 s ... ends at 4 s'); negated ones ('not between X and Y') are left out. A unit
    stated on either end ('from 3.1 to 7s') covers both."""
    nums = [n for n in numbers(text) if not n.denominator]
    found = number_pairs(text, nums)
    joined = {a.start for a, _ in found}
    pending, floor = None, 0
    for n in nums:
        cue = _cue(text, n, floor)
        floor = n.end
        if cue == "start":
            pending = n
        elif cue == "end" and pending is not None:
            if pending.start not in joined:
                found.append((pending, n))
            pending = None
    out = []
    for a, b in sorted(found, key=lambda pair: pair[1].end):
        if negated_before(text, a.start):
            continue
        if a.seconds or b.seconds:
            a, b = replace(a, seconds=True), replace(b, seconds=True)
        out.append((a, b))
    return out


def to_time(n: Number, unit: str, duration: float | None) -> float | None:
    """A parsed time in the label's units: normalized (0..1) or, with no duration known, seconds."""
    if unit == "seconds":
        return None if n.percent else n.value
    if n.percent:
        return n.value / 100
    if n.seconds or n.value > 1:
        return n.value / duration if duration else None  # a bare number > 1 can only be seconds
    return n.value


def boxes(text: str) -> list[tuple[float, float, float, float]]:
    """Boxes in order of where they end: runs of four numbers separated by commas, spaces or
    brackets, and named corners (x1=, y1=, x2=, y2= or xmin/ymin/xmax/ymax or left/top/right/bottom)."""
    nums = numbers(text)
    found = []
    for i in range(len(nums) - 3):
        window = nums[i:i + 4]
        if all(_BOX_JOIN_RE.fullmatch(text[a.end:b.start]) for a, b in zip(window, window[1:])):
            found.append((window[-1].end, tuple(n.value for n in window)))
    slots: dict[int, float] = {}
    for m in _NAMED_COORD_RE.finditer(text):
        slots[_COORD_SLOT[m.group(1).lower()]] = float(m.group(2))
        if len(slots) == 4:
            found.append((m.end(), tuple(slots[k] for k in range(4))))
            slots = {}
    return [box for _, box in sorted(found, key=lambda f: f[0])]


def words(text: str) -> list[tuple[str, int, int]]:
    """Lower-cased word tokens with their spans (apostrophes kept: "isn't")."""
    return [(m.group().lower(), m.start(), m.end()) for m in _WORD_RE.finditer(text)]


def steps(text: str) -> list[str]:
    """Split an answer into ordered steps: sentences, lines, 'then'/'next'/'finally' clauses."""
    parts = (p.strip(" ,:-") for p in _STEP_SPLIT_RE.split(_LIST_MARK_RE.sub("", text)))
    return [p for p in parts if len(p) >= 2]
