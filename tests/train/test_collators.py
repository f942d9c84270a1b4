"""Qwen2-VL specifics of the collators (every family's masks: test_family_collators.py)."""

import pytest

from videostar.data.manifest import load_manifest
from videostar.models.hf import load_processor_and_model
from videostar.train.collators import FrameLoader, VideoSFTCollator
from videostar.video.sampling import FrameSampling


@pytest.fixture(scope="module")
def processor(tiny_model):
    return load_processor_and_model(str(tiny_model), device="cpu")[0]


def _expected_answer_ids(processor, answer):
    # what the chat template puts after the assistant header: the answer and the end of the turn
    return processor.tokenizer(answer + "<|im_end|>\n", add_special_tokens=False)["input_ids"]


def test_trl_messages_rows_are_accepted(processor, toy_manifest):
    video = load_manifest(toy_manifest)[0].video
    row = {"video": video, "segment": None, "messages": [
        {"role": "user", "content": [{"type": "video", "text": None}, {"type": "text", "text": "Which way?"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "up"}]}]}
    batch = VideoSFTCollator(processor, FrameLoader(FrameSampling(num_frames=8)))([row])
    kept = batch["labels"][0][batch["labels"][0] != -100].tolist()
    assert kept == _expected_answer_ids(processor, "up")


def test_32_frames_stay_within_the_pixel_budget(processor, toy_manifest):
    """Long clips: 32 frames cost (32 / temporal patch) x (pixels / patch^2) patches; max_pixels caps it."""
    video = load_manifest(toy_manifest)[0].video
    row = {"video": video, "prompt": "q", "response": "a"}
    full = VideoSFTCollator(processor, FrameLoader(FrameSampling(num_frames=32)))([row])
    small = VideoSFTCollator(processor, FrameLoader(FrameSampling(num_frames=32, max_pixels=32 * 32)))([row])
    assert full["video_grid_thw"][0].tolist() == [16, 8, 8]  # 64x64 frames, patch 8
    assert small["video_grid_thw"][0].tolist() == [16, 4, 4]  # 32x32 frames
    assert small["pixel_values_videos"].shape[0] * 4 == full["pixel_values_videos"].shape[0]
    assert small["input_ids"].shape[1] < full["input_ids"].shape[1]
