"""(processor, chat messages, Frames) -> model inputs: the one place GRPO turns a prompt into tensors.

The same tensors feed generation and every log-probability pass (policy, old policy, reference),
so the model scores its completions against exactly the frames it answered from.
"""

from __future__ import annotations

from videostar.models.backend import with_video
from videostar.video.decode import Frames


def encode_prompt(processor, messages: list[dict], frames: Frames | None) -> dict:
    """Processor outputs (tensors, batch of one) for a chat prompt with its video, ready to generate."""
    text = processor.apply_chat_template(with_video(messages, frames is not None), add_generation_prompt=True,
                                         tokenize=False)
    videos = [frames.array] if frames is not None else None
    return dict(processor(text=[text], videos=videos, return_tensors="pt"))
