"""score: a number (a dive score, a count). Parsed: the LAST number of the final-answer line (else of
the whole answer), denominators left out; "6.5 out of 10" / "6.5/10" and percentages are rescaled to
the label's ``scale`` when it is known. Passes: relative error <= ``score_rel_tol``. Graded score:
1 - relative error, clipped to 0..1."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from videostar.labels.base import Context, LabelBase, LabelType, failed, fmt_number, verdict
from videostar.verify import parse


class ScoreLabel(LabelBase):
    """A number (a dive score, a count, a difficulty), with its ``scale`` [lo, hi] when known."""

    type: Literal["score"] = "score"
    value: float
    scale: tuple[float, float] | None = None

    @model_validator(mode="after")
    def _within_scale(self) -> "ScoreLabel":
        if self.scale is not None:
            lo, hi = self.scale
            if not lo < hi:
                raise ValueError(f"scale: lo must be < hi, got [{lo}, {hi}]")
            if not lo <= self.value <= hi:
                raise ValueError(f"value: {self.value} is outside its scale [{lo}, {hi}]")
        return self

    def render(self) -> str:
        return fmt_number(self.value)


def relative_error(pred: float, gold: float) -> float:
    """|pred - gold| / |gold|; the absolute error when gold is 0 (relative error is undefined)."""
    return abs(pred - gold) / abs(gold) if gold != 0 else abs(pred - gold)


def _on_scale(n: parse.Number, scale: tuple[float, float] | None) -> float:
    if scale is None:
        return n.value
    lo, hi = scale
    if n.percent and (lo, hi) != (0, 100):
        return lo + n.value / 100 * (hi - lo)
    if n.out_of and n.out_of != hi:
        return n.value / n.out_of * hi
    return n.value


def parse_score(label: ScoreLabel, answer: str, ctx: Context) -> float | None:
    last = parse.last_found(answer, lambda region: [n for n in parse.numbers(region) if not n.denominator])
    return None if last is None else _on_scale(last, label.scale)


def rule(label: ScoreLabel, pred, ctx: Context):
    tolerance = ctx.config.score_rel_tol
    if pred is None:
        return failed(label, "relative_error", tolerance, "no number found in the answer")
    error = relative_error(pred, label.value)
    return verdict(label, "relative_error", tolerance, error, error <= tolerance, 1 - error, pred,
                   f"the answer's number {pred:g} is {error:.0%} from {label.value:g} (> {tolerance:.0%})")


def _scale_text(label: ScoreLabel) -> dict:
    scale = label.scale
    return {"scale": f" between {fmt_number(scale[0])} and {fmt_number(scale[1])}" if scale else ""}


TYPE = LabelType(
    label=ScoreLabel,
    default_name="score",
    questions=(
        "What is the {name} for this video? Answer with a number{scale}.",
        "Estimate the {name} shown in this video, as a number{scale}.",
    ),
    question_fields=_scale_text,
    parse=parse_score,
    rule=rule,
    graded="1 - relative error, clipped to 0..1",
)
