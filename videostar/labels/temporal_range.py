"""temporal_range: a [start, end] segment. Parsed: the last range in the answer (connector or
start/end phrases, seconds and clock times converted with the duration). Passes: 1-D IoU > ``range_iou``.
Graded score: the IoU."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from videostar.labels.base import Context, LabelType, Timed, check_time, fmt_number, iou_rule
from videostar.verify import parse


class TemporalRangeLabel(Timed):
    """A [start, end] segment, normalized to 0..1 of the clip or in seconds."""

    type: Literal["temporal_range"] = "temporal_range"
    value: tuple[float, float]

    @model_validator(mode="after")
    def _ordered(self) -> "TemporalRangeLabel":
        start, end = self.value
        check_time(start, self.unit, "start")
        check_time(end, self.unit, "end")
        if not start < end:
            raise ValueError(f"value: start must be < end, got [{start}, {end}]")
        return self

    def normalized(self, duration: float | None) -> "TemporalRangeLabel":
        if self.unit == "normalized":
            return self
        start, end = (self._seconds_to_fraction(t, duration) for t in self.value)
        return self.model_copy(update={"value": (start, end), "unit": "normalized"})

    def render(self) -> str:
        s = "s" if self.unit == "seconds" else ""
        return f"from {fmt_number(self.value[0])}{s} to {fmt_number(self.value[1])}{s}"


def iou_1d(a: tuple[float, float], b: tuple[float, float]) -> float:
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = (a[1] - a[0]) + (b[1] - b[0]) - inter
    if union <= 0:  # both empty (or too small for floats): the same point or nothing in common
        return 1.0 if tuple(a) == tuple(b) else 0.0
    return inter / union


def parse_range(label: TemporalRangeLabel, answer: str, ctx: Context) -> tuple[float, float] | None:
    def found(region: str) -> list[tuple[float, float]]:
        times = ((parse.to_time(a, label.unit, ctx.duration), parse.to_time(b, label.unit, ctx.duration))
                 for a, b in parse.ranges(region))
        return [(start, end) for start, end in times if start is not None and end is not None and start < end]

    return parse.last_found(answer, found)


def rule(label: TemporalRangeLabel, pred, ctx: Context):
    return iou_rule(label, pred, iou_1d, ctx.config.range_iou, "no time range (start < end) found in the answer")


TYPE = LabelType(
    label=TemporalRangeLabel,
    default_name="the event happens",
    questions=(
        "Find the part of the video where {name}. Give its start and end as fractions of the video's length (0 to 1).",
        "During which segment of the video is it true that {name}? Answer with start and end times between 0 and 1.",
    ),
    parse=parse_range,
    rule=rule,
    graded="IoU of the predicted and gold segments",
)
