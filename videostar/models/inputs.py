"""Turn (processor, chat messages, sampled Frames) into model inputs, the same way for every family.

Generation, SFT, DPO and evaluation all go through ``model_inputs`` (so should any new trainer,
e.g. GRPO's rollouts) so that a model sees
exactly the frames the run sampled, with their true timestamps and frame rate: the processor gets
a ``VideoMetadata`` per video and ``do_sample_frames=False``, so it never re-samples (Qwen3-VL
would otherwise assume 24 fps and drop half the frames; GLM refuses frames without metadata;
VideoLLaMA3 would label them at 1 fps).

``encode_completions`` finds the answer's tokens without any per-family arithmetic: it runs the
same processor call on the prompt alone and on prompt + answer (same videos, same metadata) and
checks that the prompt's ids are a prefix of the full ids. Whatever a processor inserts (frame
timestamps, "Time x.xs:" text, image tokens for a video, a BOS token) is inserted into both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from videostar.models.backend import with_video

if TYPE_CHECKING:
    from videostar.video.decode import Frames


def clip_timing(frames: "Frames") -> tuple[float, float, float]:
    """(clip start, frame spacing, source fps) of sampled frames, all in seconds of the video.

    ``FrameSampling`` puts frame i at the centre of the i-th of n equal bins of the clip (both modes),
    so the clip starts half a spacing before the first frame and lasts n spacings."""
    import numpy as np

    times = np.asarray(frames.times, dtype=np.float64)
    source_fps = float(frames.info.fps) if frames.info.fps and frames.info.fps > 0 else 0.0
    spacing = float(np.median(np.diff(times))) if len(times) > 1 else 0.0
    if spacing <= 0:
        spacing = 1.0 / source_fps if source_fps else 1.0
    return float(times[0]) - spacing / 2, spacing, source_fps or 1.0 / spacing


def video_metadata(frames: "Frames"):
    """The metadata processors read, for the CLIP the frames were sampled from: its fps, length and
    the sampled frames' positions in it. Times are the clip's own (0 = the clip's start), as labels
    in seconds are (they are read against the clip), so a model that writes times (Qwen3-VL's
    "<t seconds>", GLM, VideoLLaMA3, SmolVLM2) writes them on the labels' clock, and the sampled rate
    (``len(frames_indices) / total_num_frames * fps``, from which Qwen2.5-VL takes its temporal
    step) is the frames' true rate even for a short segment of a long video. ``frames_indices`` are
    not rounded, so every processor's ``index / fps`` gives back exactly the sampled times."""
    from videostar.compat import ensure_torchvision_importable

    ensure_torchvision_importable()  # transformers.video_utils imports torchvision
    from transformers.video_utils import VideoMetadata

    start, spacing, fps = clip_timing(frames)
    count = len(frames.times)
    return VideoMetadata(
        total_num_frames=max(count, round(count * spacing * fps)), fps=fps, duration=count * spacing,
        width=int(frames.array.shape[2]), height=int(frames.array.shape[1]),
        frames_indices=[(float(t) - start) * fps for t in frames.times])


def model_inputs(processor, conversations: Sequence[list[dict]], videos: Sequence["Frames | None"],
                 add_generation_prompt: bool, padding_side: str):
    """Processor outputs for a batch of chats (plain ``{"role", "content": str}`` messages); the
    video of row i, if any, goes before the text of its first user turn."""
    texts = [processor.apply_chat_template(with_video(messages, video is not None),
                                           add_generation_prompt=add_generation_prompt, tokenize=False)
             for messages, video in zip(conversations, videos)]
    present = [v for v in videos if v is not None]
    kwargs = {}
    if present:
        kwargs = dict(videos=[v.array for v in present], video_metadata=[video_metadata(v) for v in present],
                      do_sample_frames=False)
    return processor(text=texts, padding=True, padding_side=padding_side, return_tensors="pt", **kwargs)


def encode_completions(processor, prompts: Sequence[str], completions: Sequence[str],
                       videos: Sequence["Frames"]) -> dict:
    """Right-padded batch of prompt + completion with a ``completion_mask`` that is 1 exactly on the
    completion's tokens (the answer and the template's end of turn), 0 on prompt and padding."""
    import torch

    users = [[{"role": "user", "content": p}] for p in prompts]
    fulls = [u + [{"role": "assistant", "content": c}] for u, c in zip(users, completions)]
    batch = model_inputs(processor, fulls, videos, add_generation_prompt=False, padding_side="right")
    # each distinct (prompt, video) once: DPO's chosen and rejected rows share theirs
    first = {}
    for i, (p, v) in enumerate(zip(prompts, videos)):
        first.setdefault((p, id(v)), i)
    unique = list(first.values())
    prompt = model_inputs(processor, [users[i] for i in unique], [videos[i] for i in unique],
                          add_generation_prompt=True, padding_side="right")
    row_of = {i: k for k, i in enumerate(unique)}
    mask = torch.zeros_like(batch["input_ids"])
    for i in range(len(prompts)):
        real = batch["attention_mask"][i].nonzero().squeeze(1)  # positions of the row's tokens, any padding side
        full_ids = batch["input_ids"][i][real]
        j = row_of[first[(prompts[i], id(videos[i]))]]
        prompt_ids = prompt["input_ids"][j][prompt["attention_mask"][j].bool()]
        n = len(prompt_ids)
        if n >= len(full_ids) or not torch.equal(full_ids[:n], prompt_ids):
            raise ValueError(
                f"{type(processor).__name__}: the prompt's tokens are not a prefix of prompt + answer "
                f"(row {i}); cannot tell which tokens are the answer. The chat template must render the "
                "prompt with add_generation_prompt=True exactly as the start of the full conversation.")
        mask[i, real[n:]] = 1
    batch["completion_mask"] = mask
    return batch
