"""timestamp: one moment. Parsed: the last time in the answer (fractions, percentages, seconds,
clock times; seconds need the duration for normalized labels). Passes: absolute error <=
``timestamp_abs_tol`` (in fractions of the clip). Graded score: closeness, 1 - |error| in fractions
of the clip (of the duration, or of the gold time, for seconds labels with no duration known)."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from videostar.labels.base import Context, LabelType, Timed, check_time, failed, fmt_number, verdict
from videostar.verify import parse


class TimestampLabel(Timed):
    """A single moment, normalized to 0..1 of the clip or in seconds."""

    type: Literal["timestamp"] = "timestamp"
    value: float

    @model_validator(mode="after")
    def _valid_time(self) -> "TimestampLabel":
        check_time(self.value, self.unit, "value")
        return self

    def normalized(self, duration: float | None) -> "TimestampLabel":
        if self.unit == "normalized":
            return self
        return self.model_copy(update={"value": self._seconds_to_fraction(self.value, duration), "unit": "normalized"})

    def render(self) -> str:
        return fmt_number(self.value) + ("s" if self.unit == "seconds" else "")


def parse_time(label: TimestampLabel, answer: str, ctx: Context) -> float | None:
    return parse.last_found(answer, lambda region: [
        t for n in parse.numbers(region) if not n.denominator
        if (t := parse.to_time(n, label.unit, ctx.duration)) is not None])


def rule(label: TimestampLabel, pred, ctx: Context):
    tolerance = ctx.config.timestamp_abs_tol
    if pred is None:
        return failed(label, "absolute_error", tolerance, "no time found in the answer")
    error = abs(pred - label.value)
    scale = 1.0 if label.unit == "normalized" else max(ctx.duration or label.value, 1e-9)
    return verdict(label, "absolute_error", tolerance, error, error <= tolerance, 1 - error / scale, pred,
                   f"|{pred:.3g} - {label.value:.3g}| = {error:.3g} > {tolerance}")


TYPE = LabelType(
    label=TimestampLabel,
    default_name="the event happens",
    questions=(
        "At what point of the video is it that {name}? Answer with a time as a fraction of the video (0 to 1).",
        "When in the video is it that {name}? Give the moment as a number between 0 and 1.",
    ),
    parse=parse_time,
    rule=rule,
    graded="closeness: 1 - |error| in fractions of the clip, clipped to 0",
)
