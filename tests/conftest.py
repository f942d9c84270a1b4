"""Shared fixtures: a real toy dataset and a real gray-ramp video, both written by PyAV."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from media import gray_frames

from videostar.toyworld.dataset import make_toy_dataset
from videostar.video.encode import write_video

# Nothing may come from a model hub during tests: fail loudly instead of downloading.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"


@pytest.fixture(scope="session")
def toy_manifest(tmp_path_factory) -> Path:
    """A small toy dataset (4 videos x 7 tasks), rendered once per test session."""
    return make_toy_dataset(tmp_path_factory.mktemp("toy"), n=4, seed=7)


@pytest.fixture
def gray_video(tmp_path) -> Path:
    """16 frames at 8 fps (2 s), frame i has gray level 15*i."""
    return write_video(tmp_path / "gray.mp4", gray_frames(16), fps=8)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny random Qwen2-VL (about 170k parameters), built once per session."""
    from videostar.models.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="session")
def tiny_backend(tiny_model):
    from videostar.models.hf import HFBackend

    return HFBackend(str(tiny_model), device="cpu", batch_size=4)
