"""The records a run stores and exports, shared by every method: a question about a sample, and a
training example made from a kept generation. They live here, beneath every method package, so the
store depends on nothing above it (``star/`` and ``savi/`` build these; ``store/`` keeps them).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Question:
    id: str
    sample_id: str
    source: str  # "dataset" | "template" | "model" | "spatial" | "temporal"
    text: str


@dataclass(frozen=True)
class Example:
    id: str
    sample_id: str
    video: str
    form: str
    source: str  # "answer" | "rationalize"
    prompt: str
    response: str
    task: str
    segment: tuple[float, float] | None = None
    fps: float | None = None  # frame folders: their frame rate (decoding needs it)
    meta: dict = field(default_factory=dict)
