"""Shared fixtures: a real toy dataset, a real gray-ramp video and a black-then-white video cut into
two clips, all written by PyAV; a tiny model."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from media import gray_frames

from videostar.toyworld.dataset import make_toy_dataset
from videostar.video.encode import write_video

# Nothing may come from a model hub during tests: fail loudly instead of downloading.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"


@pytest.fixture(scope="session")
def toy_manifest(tmp_path_factory) -> Path:
    """A small toy dataset (4 videos x 8 tasks, one per label type), rendered once per test session."""
    return make_toy_dataset(tmp_path_factory.mktemp("toy"), n=4, seed=7)


@pytest.fixture
def gray_video(tmp_path) -> Path:
    """16 frames at 8 fps (2 s), frame i has gray level 15*i."""
    return write_video(tmp_path / "gray.mp4", gray_frames(16), fps=8)


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


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny random Qwen2-VL (about 170k parameters), built once per session."""
    from videostar.models.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="session")
def tiny_backend(tiny_model):
    from videostar.models.hf import HFBackend

    return HFBackend(str(tiny_model), device="cpu", batch_size=4)
