"""Typed labels: what a video is known to show, in the one JSON shape users write by hand.

A label is ``{"type": T, "value": V}`` plus optional ``name`` (what it labels), ``scale`` (scores),
``unit`` ("normalized", the default, or "seconds"), ``time`` (boxes), ``aliases``/``excludes``
(classes) and ``options`` (choices). Each class validates itself, so a bad manifest fails at load
time with the field named, and renders itself as text, so prompts, templates and verifiers all
agree on how a label reads. The classes live with the rest of their type in ``videostar.labels``
(one module per type); this module is where the rest of videostar imports them from.
"""

from __future__ import annotations

from typing import Annotated, Union

from pydantic import Field, TypeAdapter

from videostar.labels import LABEL_TYPES, REGISTRY, fmt_number
from videostar.labels.base import Unit
from videostar.labels.bbox import BBoxLabel
from videostar.labels.choice import ChoiceLabel
from videostar.labels.class_ import ClassLabel
from videostar.labels.score import ScoreLabel
from videostar.labels.sequence import SequenceLabel
from videostar.labels.temporal_range import TemporalRangeLabel
from videostar.labels.text import TextLabel
from videostar.labels.timestamp import TimestampLabel

Label = Annotated[Union[tuple(spec.label for spec in REGISTRY.values())], Field(discriminator="type")]
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


__all__ = ["BBoxLabel", "ChoiceLabel", "ClassLabel", "LABEL_TYPES", "Label", "ScoreLabel", "SequenceLabel",
           "TemporalRangeLabel", "TextLabel", "TimestampLabel", "Unit", "fmt_number", "label_to_json",
           "parse_label", "parse_labels"]
