"""text: a free-text description. Parsed: the final-answer line (else the whole answer). Passes:
sentence-embedding cosine (all-MiniLM-L6-v2) >= ``text_cosine``. Graded score: the cosine, clipped to 0..1."""

from __future__ import annotations

from typing import Literal

from videostar.labels.base import Context, LabelBase, LabelType, NonBlank, failed, verdict
from videostar.verify import parse


class TextLabel(LabelBase):
    """A free-text description (a caption, an answer sentence)."""

    type: Literal["text"] = "text"
    value: NonBlank

    def render(self) -> str:
        return self.value


def rule(label: TextLabel, region: str, ctx: Context):
    threshold = ctx.config.text_cosine
    if not region.strip():
        return failed(label, "cosine", threshold, "empty answer")
    cosine = float(ctx.embedder().similarity([label.value], [region])[0, 0])
    return verdict(label, "cosine", threshold, cosine, cosine >= threshold, cosine, region[:200],
                   f"cosine {cosine:.2f} < {threshold}")


TYPE = LabelType(
    label=TextLabel,
    default_name="description",
    questions=("Describe what happens in this video.", "Give a short description of the video."),
    parse=lambda label, answer, ctx: parse.answer_region(answer),
    rule=rule,
    embeds=lambda label, answer: [label.value, parse.answer_region(answer)],
    graded="sentence-embedding cosine, clipped to 0..1",
)
