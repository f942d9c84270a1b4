"""(processor, chat messages, Frames) -> model inputs: the one place GRPO turns a prompt into tensors.

The same tensors feed generation and every log-probability pass (policy, old policy, reference),
so the model scores its completions against exactly the frames it answered from. They are built by
``models.inputs.model_inputs``, like every other model input: frames with their clip metadata and
``do_sample_frames=False`` (Qwen2.5-VL otherwise encodes time as if the frames came at 24 fps).
"""

from __future__ import annotations

from videostar.models.inputs import model_inputs
from videostar.video.decode import Frames


def encode_prompt(processor, messages: list[dict], frames: Frames | None) -> dict:
    """Processor outputs (tensors, batch of one) for a chat prompt with its video, ready to generate."""
    return dict(model_inputs(processor, [messages], [frames], add_generation_prompt=True, padding_side="left"))
