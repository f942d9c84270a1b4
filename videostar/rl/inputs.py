"""(processor, chat messages, Frames) -> model inputs: the one place GRPO turns a prompt into tensors.

The same tensors feed generation and every log-probability pass (policy, old policy, reference),
so the model scores its completions against exactly the frames it answered from. The frames go
with their metadata and ``do_sample_frames=False``: the processor must neither re-sample them nor
assume a frame rate (Qwen2.5-VL otherwise encodes time as if the frames came at 24 fps).
"""

from __future__ import annotations

import numpy as np

from videostar.models.backend import with_video
from videostar.video.decode import Frames


def video_metadata(frames: Frames) -> dict:
    """The sampled frames described as a video of their own: their rate, count and length."""
    count = len(frames.times)
    step = float(np.median(np.diff(frames.times))) if count > 1 else 1.0 / frames.info.fps
    fps = 1.0 / step if step > 0 else frames.info.fps
    return {"fps": fps, "total_num_frames": count, "duration": count / fps, "frames_indices": list(range(count))}


def encode_prompt(processor, messages: list[dict], frames: Frames | None) -> dict:
    """Processor outputs (tensors, batch of one) for a chat prompt with its video, ready to generate."""
    text = processor.apply_chat_template(with_video(messages, frames is not None), add_generation_prompt=True,
                                         tokenize=False)
    if frames is None:
        return dict(processor(text=[text], return_tensors="pt"))
    return dict(processor(text=[text], videos=[frames.array], video_metadata=[video_metadata(frames)],
                          do_sample_frames=False, return_tensors="pt"))
