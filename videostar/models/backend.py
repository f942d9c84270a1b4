"""One interface for every model: a batch of (frames, chat messages) in, texts out.

Prompts are plain chat messages; a request's video is shown before the text of its first user
message. The video travels as ``Frames``: the sampled uint8 (T, H, W, 3) array together with the
time in seconds of every frame and the clip's info, so a backend can give the model the true
timestamps and frame rate of what it sees (never re-sampling). Backends differ only in where the model runs: in this
process (transformers), or behind an OpenAI-compatible server (``vllm serve``, any hosted API).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, Sequence

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from videostar.video.decode import Frames


class SamplingParams(BaseModel):
    """How to sample; the paper used temperature 0.2 and up to 1024 new tokens."""

    model_config = ConfigDict(extra="forbid")
    temperature: float = Field(0.2, ge=0)
    top_p: float = Field(1.0, gt=0, le=1)
    max_new_tokens: int = Field(1024, ge=1)
    seed: int = 0


@dataclass(frozen=True)
class GenRequest:
    messages: list[dict]  # [{"role": "system"|"user"|"assistant", "content": str}]
    video: "Frames | None" = field(default=None, compare=False)


@dataclass(frozen=True)
class Generation:
    text: str
    prompt_tokens: int
    completion_tokens: int


class Backend(Protocol):
    name: str

    def generate(self, requests: Sequence[GenRequest], params: SamplingParams) -> list[Generation]:
        """One generation per request, in order."""
        ...


def with_video(messages: list[dict], has_video: bool) -> list[dict]:
    """Messages in the structured form chat templates expect, the video first in the first user turn."""
    out, placed = [], not has_video
    for message in messages:
        content = [{"type": "text", "text": message["content"]}]
        if not placed and message["role"] == "user":
            content.insert(0, {"type": "video"})
            placed = True
        out.append({"role": message["role"], "content": content})
    return out
