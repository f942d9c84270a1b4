"""Video collators for TRL, which handles images but not video (trl issue 4002).

Both decode each row's video with the run's one ``FrameSampling`` (the frames its data was
generated from), render prompt and completion with the processor's chat template, and mark which
tokens are the completion:

- ``VideoSFTCollator``: ``labels`` = input ids with prompt and padding set to -100 (loss on the
  assistant's answer only);
- ``VideoDPOCollator``: TRL's preference layout, chosen rows then rejected rows (videos repeated),
  with a ``completion_mask``.

Which tokens are the completion is found the same way for every model family (prompt alone and
prompt + answer through the same processor call, see models/inputs.py); the frames reach the
processor with their sampled timestamps and are never re-sampled.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from videostar.models.inputs import encode_completions
from videostar.video.cache import FrameCache
from videostar.video.decode import Frames, decode
from videostar.video.sampling import FrameSampling


@dataclass
class FrameLoader:
    """Frames of a row's video (``video``, optional ``segment`` and ``fps``), cached when a dir is given."""

    sampling: FrameSampling
    cache_dir: str | Path | None = None

    def __post_init__(self):
        self._cache = FrameCache(self.cache_dir) if self.cache_dir else None

    def __call__(self, row: dict) -> Frames:
        segment = tuple(row["segment"]) if row.get("segment") else None
        if self._cache is not None:
            return self._cache.load(row["video"], self.sampling, segment=segment, fps=row.get("fps"))
        return decode(row["video"], self.sampling, segment=segment, fps=row.get("fps"))


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
