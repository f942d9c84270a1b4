"""bbox: a box [x1, y1, x2, y2] in 0..1 of the frame. Parsed: the last box in the answer (brackets,
parentheses, named corners; pixels divided by the frame size when it is known; swapped corners
sorted). Passes: 2-D IoU > ``box_iou`` (xyxy everywhere). Graded score: the IoU."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from videostar.labels.base import Context, LabelType, Timed, check_time, fmt_number, iou_rule
from videostar.verify import parse


class BBoxLabel(Timed):
    """A box [x1, y1, x2, y2] in 0..1 of the frame's width/height, optionally at a ``time``."""

    type: Literal["bbox"] = "bbox"
    value: tuple[float, float, float, float]
    time: float | None = None

    @model_validator(mode="after")
    def _valid_box(self) -> "BBoxLabel":
        x1, y1, x2, y2 = self.value
        if any(not 0 <= c <= 1 for c in self.value):
            raise ValueError(f"value: box coordinates must be within 0..1 (normalized), got {list(self.value)}")
        if not x1 < x2:
            raise ValueError(f"value: x2 must be > x1 (boxes are [x1, y1, x2, y2]), got {list(self.value)}")
        if not y1 < y2:
            raise ValueError(f"value: y2 must be > y1 (boxes are [x1, y1, x2, y2]), got {list(self.value)}")
        if self.time is not None:
            check_time(self.time, self.unit, "time")
        return self

    def normalized(self, duration: float | None) -> "BBoxLabel":
        if self.unit == "normalized" or self.time is None:
            return self.model_copy(update={"unit": "normalized"})
        return self.model_copy(update={"time": self._seconds_to_fraction(self.time, duration), "unit": "normalized"})

    def render(self) -> str:
        box = "[" + ", ".join(fmt_number(c) for c in self.value) + "]"
        if self.time is None:
            return box
        return f"{box} at {fmt_number(self.time)}{'s' if self.unit == 'seconds' else ''}"


def iou_2d(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    if union <= 0:
        return 1.0 if tuple(a) == tuple(b) else 0.0
    return inter / union


def parse_box(label: BBoxLabel, answer: str, ctx: Context) -> tuple[float, ...] | str | None:
    """The box in 0..1, or a string saying why the box found cannot be normalized."""
    found = parse.last_found(answer, parse.boxes)
    if found is None:
        return None
    x1, y1, x2, y2 = found
    box = (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))  # swapped corners: same box
    if any(c > 1 for c in box):
        if ctx.frame_size is None:
            return "box coordinates are not normalized to 0..1 and the frame size is unknown"
        width, height = ctx.frame_size
        box = (box[0] / width, box[1] / height, box[2] / width, box[3] / height)
    if any(c < 0 or c > 1 for c in box):
        return "box coordinates are outside the frame"
    return box


def rule(label: BBoxLabel, pred, ctx: Context):
    return iou_rule(label, pred, iou_2d, ctx.config.box_iou, "no box [x1, y1, x2, y2] found in the answer")


TYPE = LabelType(
    label=BBoxLabel,
    default_name="the object",
    questions=(
        "Where is {name} at time {time} of the video (a fraction from 0 to 1)? Give its bounding box as [x1, y1, x2, y2] in normalized coordinates.",
        "Locate {name} at {time} of the way through the video. Answer with a normalized box [x1, y1, x2, y2].",
    ),
    question_fields=lambda label: {"time": fmt_number(label.time) if label.time is not None else "the middle"},
    parse=parse_box,
    rule=rule,
    graded="IoU of the predicted and gold boxes",
)
