"""Video collators for TRL, which handles images but not video (trl issue 4002).

Both decode each row's video with the run's one ``FrameSampling`` (the frames its data was
generated from), render prompt and completion with the processor's chat template, and mark which
tokens are the completion:

- ``VideoSFTCollator``: ``labels`` = input ids with prompt and padding set to -100 (loss on the
  assistant's answer only);
- ``VideoDPOCollator``: TRL's preference layout, chosen rows then rejected rows (videos repeated),
  with a ``completion_mask``.

The prompt's length comes from the prompt's own tokens plus the video tokens the processor expanded
in that row (or, for processors without a video placeholder token, from processing the prompt alone).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from videostar.models.backend import with_video
from videostar.video.cache import FrameCache
from videostar.video.decode import decode
from videostar.video.sampling import FrameSampling


@dataclass
class FrameLoader:
    """Frames of a row's video (``video``, optional ``segment`` and ``fps``), cached when a dir is given."""

    sampling: FrameSampling
    cache_dir: str | Path | None = None

    def __post_init__(self):
        self._cache = FrameCache(self.cache_dir) if self.cache_dir else None

    def __call__(self, row: dict) -> np.ndarray:
        segment = tuple(row["segment"]) if row.get("segment") else None
        if self._cache is not None:
            return self._cache.load(row["video"], self.sampling, segment=segment, fps=row.get("fps")).array
        return decode(row["video"], self.sampling, segment=segment, fps=row.get("fps")).array


def _turn_text(row: dict, key: str, role: str) -> str:
    """``row[key]`` (a text, or TRL conversational turns) or the text of the first ``role`` turn of ``messages``."""
    if isinstance(row.get(key), str):
        return row[key]
    turns = row[key] if isinstance(row.get(key), list) else row["messages"]
    content = next(m for m in turns if m["role"] == role)["content"]
    return content if isinstance(content, str) else "".join(p.get("text") or "" for p in content if p["type"] == "text")


def prompt_text(row: dict) -> str:
    return _turn_text(row, "prompt", "user")


def response_text(row: dict) -> str:
    return _turn_text(row, "response", "assistant")


def encode_completions(processor, prompts: Sequence[str], completions: Sequence[str],
                       videos: Sequence[np.ndarray]) -> dict:
    """Right-padded batch of prompt+completion with a ``completion_mask`` (1 on completion tokens)."""
    import torch

    user = [[{"role": "user", "content": p}] for p in prompts]
    prompt_texts = [processor.apply_chat_template(with_video(m, True), add_generation_prompt=True, tokenize=False)
                    for m in user]
    full_texts = [processor.apply_chat_template(
        with_video(m + [{"role": "assistant", "content": c}], True), tokenize=False) for m, c in zip(user, completions)]
    for prompt, full in zip(prompt_texts, full_texts):
        if not full.startswith(prompt):
            raise ValueError("the chat template does not render the prompt as a prefix of prompt + answer; "
                             "cannot tell which tokens are the answer")
    tokenizer = processor.tokenizer
    side = tokenizer.padding_side
    try:
        tokenizer.padding_side = "right"
        batch = processor(text=full_texts, videos=list(videos), padding=True, return_tensors="pt")
        prompt_lengths = _prompt_lengths(processor, prompt_texts, batch, videos)
    finally:
        tokenizer.padding_side = side
    positions = torch.arange(batch["input_ids"].shape[1]).unsqueeze(0)
    completion = (positions >= prompt_lengths.unsqueeze(1)) & batch["attention_mask"].bool()
    batch["completion_mask"] = completion.long()
    return batch


def _prompt_lengths(processor, prompt_texts: list[str], batch: dict, videos: Sequence[np.ndarray]):
    """Tokens of each row's prompt in ``batch``. The processor expands each video placeholder token
    into as many tokens as the video needs, the same in prompt and full text: so the prompt's length
    is its unexpanded tokens plus the row's video tokens less its placeholders. Processors without a
    placeholder token are asked directly (a second pass over the videos)."""
    import torch

    video_token = getattr(processor, "video_token_id", None)
    if video_token is None:
        return processor(text=prompt_texts, videos=list(videos), padding=True, return_tensors="pt")[
            "attention_mask"].sum(dim=1)
    unexpanded = processor.tokenizer(prompt_texts, add_special_tokens=False)["input_ids"]
    expanded = (batch["input_ids"] == video_token).sum(dim=1)
    return torch.tensor([len(ids) - ids.count(video_token) + int(n) for ids, n in zip(unexpanded, expanded)])


@dataclass
class VideoSFTCollator:
    processor: Any
    frames: FrameLoader

    def __call__(self, rows: list[dict]) -> dict:
        batch = encode_completions(self.processor, [prompt_text(r) for r in rows], [response_text(r) for r in rows],
                                   [self.frames(r) for r in rows])
        mask = batch.pop("completion_mask")
        batch["labels"] = batch["input_ids"].masked_fill(mask == 0, -100)
        return dict(batch)


@dataclass
class VideoDPOCollator:
    """Rows hold ``prompt``, ``chosen``, ``rejected`` (texts or TRL conversational turns) and the video."""

    processor: Any
    frames: FrameLoader

    def __call__(self, rows: list[dict]) -> dict:
        videos = [self.frames(r) for r in rows]
        prompts = [prompt_text(r) for r in rows]
        return dict(encode_completions(self.processor, prompts * 2, [_turn_text(r, "chosen", "assistant") for r in rows] +
                                       [_turn_text(r, "rejected", "assistant") for r in rows], videos * 2))
