"""What every label type shares: the pydantic base, time checks, the verdict, and the ``LabelType``
record that holds everything one type needs (class, question templates, parser, rule, embeddings).

A type's module builds one ``LabelType``; ``videostar.labels`` collects them into the registry.
The verifier, prompts and training sets only ever look a type up there, so a type is defined in
one place and a type without a rule cannot exist (``LabelType`` refuses to be built without one).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Annotated, Callable, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict

if TYPE_CHECKING:
    from videostar.verify.embed import Embedder

Unit = Literal["normalized", "seconds"]
# Seconds labels may overshoot the probed duration by container rounding; tolerate this much.
_DURATION_SLACK_S = 0.05


def _strip_non_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be blank")
    return text.strip()


NonBlank = Annotated[str, AfterValidator(_strip_non_blank)]


def fmt_number(x: float) -> str:
    """Render a number compactly: 0.2 -> '0.2', 72.0 -> '72', 0.456 -> '0.46'."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


class LabelBase(BaseModel):
    # allow_inf_nan=False: a NaN or Infinity in a manifest is an error at load time, never a label.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    name: str | None = None

    def render(self) -> str:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def normalized(self, duration: float | None) -> "LabelBase":
        """This label with times in 0..1 of the clip; labels without times return themselves."""
        return self


class Timed(LabelBase):
    """Shared handling of ``unit``: seconds labels need the clip duration to be normalized."""

    unit: Unit = "normalized"

    def _seconds_to_fraction(self, seconds: float, duration: float | None) -> float:
        if duration is None or duration <= 0:
            raise ValueError("unit is 'seconds' but the video duration is unknown")
        if seconds > duration + _DURATION_SLACK_S:
            raise ValueError(f"time {fmt_number(seconds)}s is past the video's end ({fmt_number(duration)}s)")
        return min(seconds / duration, 1.0)


def check_time(t: float, unit: Unit, what: str) -> None:
    if t < 0:
        raise ValueError(f"{what} must be >= 0, got {t}")
    if unit == "normalized" and t > 1:
        raise ValueError(f"{what} must be within 0..1 for unit 'normalized', got {t}")


@dataclass(frozen=True)
class LabelVerdict:
    type: str
    name: str | None
    passed: bool
    score: float  # the graded score, 0..1, higher is closer to the label (what RL uses as a reward)
    metric: str  # what was compared: "iou", "relative_error", "cosine", ...
    value: float | None  # the metric's value (None when nothing could be parsed)
    threshold: float
    parsed: Any
    reason: str  # "" when passed

    def to_json(self) -> dict:
        return asdict(self)


def verdict(label, metric: str, threshold: float, value: float | None, passed: bool, score: float,
            parsed: Any, reason: str = "") -> LabelVerdict:
    return LabelVerdict(label.type, label.name, bool(passed), float(max(0.0, min(1.0, score))), metric,
                        None if value is None else float(value), float(threshold), parsed, "" if passed else reason)


def iou_rule(label, pred, iou_of: Callable, threshold: float, missing: str) -> LabelVerdict:
    """Ranges and boxes: pass when IoU > threshold; the graded score is the IoU. ``pred`` None means
    nothing was found (``missing`` says what); a string says why what was found cannot be used."""
    if pred is None:
        return failed(label, "iou", threshold, missing)
    if isinstance(pred, str):
        return verdict(label, "iou", threshold, 0.0, False, 0.0, None, pred)
    iou = iou_of(pred, label.value)
    return verdict(label, "iou", threshold, iou, iou > threshold, iou, list(pred),
                   f"IoU {iou:.2f} <= {threshold} with {list(label.value)}")


def failed(label, metric: str, threshold: float, reason: str) -> LabelVerdict:
    return verdict(label, metric, threshold, None, False, 0.0, None, reason)


@dataclass
class Context:
    """What a rule may know besides the label and the answer."""

    config: Any  # videostar.verify.verifier.VerifierConfig (thresholds), already resolved for the task
    duration: float | None = None  # seconds of the clip: answers in seconds vs normalized labels
    frame_size: tuple[int, int] | None = None  # (width, height): boxes answered in pixels
    embedder: Callable[[], "Embedder"] | None = None  # lazily built sentence embedder


@dataclass(frozen=True)
class LabelType:
    """Everything about one label type. ``parse(label, answer, ctx)`` extracts the prediction (None
    when the answer holds none); ``rule(label, prediction, ctx)`` judges it and gives the graded score."""

    label: type[LabelBase]
    default_name: str
    questions: tuple[str, ...]  # question templates; {name} and the keys of ``question_fields``
    parse: Callable[[Any, str, Context], Any]
    rule: Callable[[Any, Any, Context], LabelVerdict]
    graded: str  # how the graded score is computed, for the docs
    question_fields: Callable[[Any], dict] = lambda label: {}
    question_extra: Callable[[Any], str] = lambda label: ""  # appended to any question about the label
    embeds: Callable[[Any, str], list[str]] | None = None  # texts the rule embeds (prefetched in batches)

    def __post_init__(self) -> None:
        name = self.label.model_fields["type"].default if "type" in self.label.model_fields else None
        if not isinstance(name, str):
            raise TypeError(f"{self.label.__name__} has no literal 'type' field")
        if not callable(self.parse) or not callable(self.rule):
            raise TypeError(f"label type {name!r} has no parser or no rule")
        if not self.questions or not self.default_name.strip():
            raise TypeError(f"label type {name!r} has no question template or no default name")

    @property
    def type(self) -> str:
        return self.label.model_fields["type"].default
