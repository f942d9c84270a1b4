"""Typed labels: what a video is known to show, in the one JSON shape users write by hand.

A label is ``{"type": T, "value": V}`` plus optional ``name`` (what it labels), ``scale`` (scores),
``unit`` ("normalized", the default, or "seconds") and ``time`` (boxes). Each class validates itself,
so a bad manifest fails at load time with the field named, and renders itself as text, so prompts,
templates and verifiers all agree on how a label reads.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, model_validator

Unit = Literal["normalized", "seconds"]
LABEL_TYPES = ("class", "temporal_range", "bbox", "timestamp", "score", "text", "sequence", "choice")
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


class _LabelBase(BaseModel):
    # allow_inf_nan: JSON's NaN and Infinity parse as floats, and no label means them (scores, times, boxes).
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    name: str | None = None

    def render(self) -> str:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def normalized(self, duration: float | None) -> "Label":
        """This label with times in 0..1 of the clip; labels without times return themselves."""
        return self  # type: ignore[return-value]


class _Timed(_LabelBase):
    """Shared handling of ``unit``: seconds labels need the clip duration to be normalized."""

    unit: Unit = "normalized"

    def _seconds_to_fraction(self, seconds: float, duration: float | None) -> float:
        if duration is None or duration <= 0:
            raise ValueError("unit is 'seconds' but the video duration is unknown")
        if seconds > duration + _DURATION_SLACK_S:
            raise ValueError(f"time {fmt_number(seconds)}s is past the video's end ({fmt_number(duration)}s)")
        return min(seconds / duration, 1.0)


def _check_time(t: float, unit: Unit, what: str) -> None:
    if t < 0:
        raise ValueError(f"{what} must be >= 0, got {t}")
    if unit == "normalized" and t > 1:
        raise ValueError(f"{what} must be within 0..1 for unit 'normalized', got {t}")


class ClassLabel(_LabelBase):
    """A class or short phrase ('cartwheel'); ``aliases`` are accepted synonyms."""

    type: Literal["class"] = "class"
    value: NonBlank
    aliases: list[str] = []

    def render(self) -> str:
        return self.value


class TemporalRangeLabel(_Timed):
    """A [start, end] segment, normalized to 0..1 of the clip or in seconds."""

    type: Literal["temporal_range"] = "temporal_range"
    value: tuple[float, float]

    @model_validator(mode="after")
    def _ordered(self) -> "TemporalRangeLabel":
        start, end = self.value
        _check_time(start, self.unit, "start")
        _check_time(end, self.unit, "end")
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


class BBoxLabel(_Timed):
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
            _check_time(self.time, self.unit, "time")
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


class TimestampLabel(_Timed):
    """A single moment, normalized to 0..1 of the clip or in seconds."""

    type: Literal["timestamp"] = "timestamp"
    value: float

    @model_validator(mode="after")
    def _valid_time(self) -> "TimestampLabel":
        _check_time(self.value, self.unit, "value")
        return self

    def normalized(self, duration: float | None) -> "TimestampLabel":
        if self.unit == "normalized":
            return self
        return self.model_copy(update={"value": self._seconds_to_fraction(self.value, duration), "unit": "normalized"})

    def render(self) -> str:
        return fmt_number(self.value) + ("s" if self.unit == "seconds" else "")


class ScoreLabel(_LabelBase):
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


class TextLabel(_LabelBase):
    """A free-text description (a caption, an answer sentence)."""

    type: Literal["text"] = "text"
    value: NonBlank

    def render(self) -> str:
        return self.value


class SequenceLabel(_LabelBase):
    """An ordered list of phrases (sub-actions, events), first to last."""

    type: Literal["sequence"] = "sequence"
    value: list[NonBlank] = Field(min_length=1)

    def render(self) -> str:
        if len(self.value) == 1:
            return self.value[0]
        return "first " + ", then ".join(self.value)


class ChoiceLabel(_LabelBase):
    """A multiple-choice answer: ``value`` is the correct option's text, ``options`` every option in
    the order the dataset lists them (so option letters A, B, C... mean what the dataset meant)."""

    type: Literal["choice"] = "choice"
    value: NonBlank
    options: list[NonBlank] = Field(min_length=2)

    @model_validator(mode="after")
    def _value_is_an_option(self) -> "ChoiceLabel":
        if self.value not in self.options:
            raise ValueError(f"value: {self.value!r} is not one of the options {self.options}")
        if len(set(self.options)) != len(self.options):
            raise ValueError(f"options: must be distinct, got {self.options}")
        return self

    def render(self) -> str:
        return self.value


Label = Annotated[
    Union[ClassLabel, TemporalRangeLabel, BBoxLabel, TimestampLabel, ScoreLabel, TextLabel, SequenceLabel,
          ChoiceLabel],
    Field(discriminator="type"),
]
_LABEL_ADAPTER: TypeAdapter[Label] = TypeAdapter(Label)
_LABELS_ADAPTER: TypeAdapter[list[Label]] = TypeAdapter(list[Label])


def parse_label(data: dict) -> Label:
    """Validate one label dict (raises pydantic.ValidationError naming the field)."""
    return _LABEL_ADAPTER.validate_python(data)


def parse_labels(data: list[dict]) -> list[Label]:
    return _LABELS_ADAPTER.validate_python(data)


def label_to_json(label: Label) -> dict:
    """The label as users write it: defaults left out, so round-trips stay minimal."""
    return label.model_dump(mode="json", exclude_defaults=True) | {"type": label.type}
