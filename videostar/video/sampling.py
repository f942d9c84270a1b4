"""The one frame-sampling definition shared by generation, training and evaluation.

A model is trained on the frames its data was generated from only if every step picks frames the
same way; this spec is that single rule, and its ``key()`` is recorded in run metadata and cache keys.
"""

from __future__ import annotations

import json
import math
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator


class FrameSampling(BaseModel):
    """Which frames of a clip (or of a [start, end] segment) a model sees, and at what size.

    ``uniform``: ``num_frames`` frames at the centres of equal bins over the clip.
    ``fps``: one frame every 1/``fps`` seconds, capped at ``max_frames`` (beyond the cap the
    uniform rule picks ``max_frames`` frames instead, so long videos never blow up memory).
    ``max_pixels``: frames larger than this are downscaled, keeping the aspect ratio.

    >>> FrameSampling(num_frames=4).times(0.0, 2.0).tolist()
    [0.25, 0.75, 1.25, 1.75]
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    mode: Literal["uniform", "fps"] = "uniform"
    num_frames: int = Field(8, ge=1, le=4096)
    fps: float | None = Field(None, gt=0)
    max_frames: int = Field(32, ge=1, le=4096)
    max_pixels: int | None = Field(None, ge=64)

    @model_validator(mode="after")
    def _fps_needs_rate(self) -> "FrameSampling":
        if self.mode == "fps" and self.fps is None:
            raise ValueError("mode 'fps' needs fps > 0")
        return self

    def times(self, start: float, end: float) -> np.ndarray:
        """Timestamps (seconds) of the frames to take from [start, end)."""
        length = max(end - start, 0.0)
        if self.mode == "fps":
            count = max(1, math.floor(length * self.fps))
            if count <= self.max_frames:
                return start + (np.arange(count) + 0.5) / self.fps
            n = self.max_frames
        else:
            n = self.num_frames
        return start + (np.arange(n) + 0.5) * (length / n)

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        """(height, width) after the ``max_pixels`` budget; unchanged when within it."""
        if self.max_pixels is None or height * width <= self.max_pixels:
            return height, width
        scale = math.sqrt(self.max_pixels / (height * width))
        return max(1, math.floor(height * scale)), max(1, math.floor(width * scale))

    def key(self) -> str:
        """Canonical text of this spec: equal specs give equal keys (cache and run metadata)."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
