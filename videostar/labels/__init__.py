"""The label types, one module each (class, temporal_range, bbox, timestamp, score, text, sequence,
choice), collected into ``REGISTRY``.

Each module defines, in one place, the type's pydantic class, its question templates and default
name, the parser that reads a prediction from an answer, the pass/fail rule with its graded score,
and which texts it embeds. Adding a type = one new module here plus its tests, and one line below.
The registry is checked at import: a type without a parser or rule, or two modules claiming one
type name, stop the import, so no label can fall through to another type's rule.
"""

from __future__ import annotations

from videostar.labels import bbox, choice, class_, score, sequence, temporal_range, text, timestamp
from videostar.labels.base import Context, LabelType, LabelVerdict, fmt_number

_MODULES = (class_, temporal_range, bbox, timestamp, score, text, sequence, choice)


def _registry() -> dict[str, LabelType]:
    out: dict[str, LabelType] = {}
    for module in _MODULES:
        spec = getattr(module, "TYPE", None)
        if not isinstance(spec, LabelType):
            raise TypeError(f"{module.__name__} defines no LabelType named TYPE")
        if spec.type in out:
            raise TypeError(f"label type {spec.type!r} is defined twice")
        out[spec.type] = spec
    return out


REGISTRY: dict[str, LabelType] = _registry()
LABEL_TYPES: tuple[str, ...] = tuple(REGISTRY)


def question_extras(labels) -> str:
    """What a question about these labels must show besides its text (a choice's lettered options)."""
    return "".join(REGISTRY[label.type].question_extra(label) for label in labels)

__all__ = ["REGISTRY", "LABEL_TYPES", "Context", "LabelType", "LabelVerdict", "fmt_number", "question_extras"]
