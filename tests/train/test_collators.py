import pytest
import torch

from videostar.data.manifest import load_manifest
from videostar.models.hf import load_processor_and_model
from videostar.train.collators import FrameLoader, VideoDPOCollator, VideoSFTCollator
from videostar.video.sampling import FrameSampling


@pytest.fixture(scope="module")
def processor(tiny_model):
    return load_processor_and_model(str(tiny_model), device="cpu")[0]


def _expected_answer_ids(processor, answer):
    # what the chat template puts after the assistant header: the answer and the end of the turn
    return processor.tokenizer(answer + "<|im_end|>\n", add_special_tokens=False)["input_ids"]


def test_sft_labels_cover_exactly_the_answers(processor, toy_manifest):
    samples = load_manifest(toy_manifest)
    rows = [{"video": samples[0].video, "prompt": "Which way?", "response": "left"},
            {"video": samples[9].video, "prompt": "Describe the whole video in detail, please.",
             "response": "A big red square moves up. Then it stops."}]
    batch = VideoSFTCollator(processor, FrameLoader(FrameSampling(num_frames=8)))(rows)
    assert batch["labels"].shape == batch["input_ids"].shape and batch["input_ids"].shape[0] == 2
    for i, row in enumerate(rows):
        real = int(batch["attention_mask"][i].sum())
        expected = _expected_answer_ids(processor, row["response"])
        labels = batch["labels"][i].tolist()
        # position by position: -100 on the prompt, the answer's ids at the end of the real tokens, -100 on padding
        start = real - len(expected)
        assert labels[:start] == [-100] * start
        assert labels[start:real] == expected == batch["input_ids"][i, start:real].tolist()
        assert labels[real:] == [-100] * (len(labels) - real)
    assert batch["attention_mask"][0].sum() < batch["attention_mask"][1].sum()  # mixed lengths, right-padded
    assert int((batch["input_ids"] == processor.video_token_id).sum()) == batch["video_grid_thw"].prod(1).sum() // 4


def test_trl_messages_rows_are_accepted(processor, toy_manifest):
    video = load_manifest(toy_manifest)[0].video
    row = {"video": video, "segment": None, "messages": [
        {"role": "user", "content": [{"type": "video", "text": None}, {"type": "text", "text": "Which way?"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "up"}]}]}
    batch = VideoSFTCollator(processor, FrameLoader(FrameSampling(num_frames=8)))([row])
    kept = batch["labels"][0][batch["labels"][0] != -100].tolist()
    assert kept == _expected_answer_ids(processor, "up")


def test_dpo_rows_are_chosen_then_rejected_with_repeated_videos(processor, toy_manifest):
    samples = load_manifest(toy_manifest)
    rows = [{"video": samples[0].video, "prompt": "Which way?", "chosen": "left, clearly", "rejected": "up"},
            {"video": samples[7].video, "prompt": "How many?", "chosen": "three", "rejected": "one object only"}]
    batch = VideoDPOCollator(processor, FrameLoader(FrameSampling(num_frames=8)))(rows)
    assert batch["input_ids"].shape[0] == 4 and batch["video_grid_thw"].shape[0] == 4
    assert torch.equal(batch["video_grid_thw"][:2], batch["video_grid_thw"][2:])
    completions = ["left, clearly", "three", "up", "one object only"]
    for i, text in enumerate(completions):
        ids = batch["input_ids"][i][batch["completion_mask"][i] == 1].tolist()
        assert ids == _expected_answer_ids(processor, text)
    half = batch["pixel_values_videos"].shape[0] // 2
    assert torch.equal(batch["pixel_values_videos"][:half], batch["pixel_values_videos"][half:])


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
