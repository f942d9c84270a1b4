"""A black-then-white video cut into two clips: the first two seconds are black, the last two white."""

from __future__ import annotations

import json

import numpy as np
import pytest

from videostar.video.encode import write_video


@pytest.fixture
def two_clips(tmp_path):
    """(manifest, video): clips 'first' [0, 2] s (black) and 'second' [2, 4] s (white) of one video,
    each asked its own dataset question and labeled with its color."""
    frames = np.concatenate([np.zeros((16, 64, 64, 3), np.uint8), np.full((16, 64, 64, 3), 255, np.uint8)])
    video = write_video(tmp_path / "black_white.mp4", frames, fps=8, gop=4)
    records = [{"id": name, "video": video.name, "task": "color", "segment": segment,
                "labels": [{"type": "class", "value": color, "name": "color"}],
                "meta": {"question": f"What color is clip {name}?"}}
               for name, segment, color in (("first", [0, 2], "black"), ("second", [2, 4], "white"))]
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_text("".join(json.dumps(r) + "\n" for r in records))
    return manifest, video
