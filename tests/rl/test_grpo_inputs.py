"""encode_prompt: the sampled frames reach the processor with their true rate, never re-sampled."""

import numpy as np
import pytest

from videostar.models.inputs import video_metadata
from videostar.rl.inputs import encode_prompt
from videostar.video.decode import Frames, VideoInfo
from videostar.video.sampling import FrameSampling


def test_metadata_describes_the_sampled_frames(gray_video):
    from videostar.video.decode import decode

    frames = decode(gray_video, FrameSampling(num_frames=4))  # 4 of a 2 s clip: one every 0.5 s
    meta = video_metadata(frames)
    # the 2 s clip at the video's 8 fps (16 frames), 4 of them sampled: a sampled rate of 2 fps
    assert meta.fps == pytest.approx(8.0) and meta.total_num_frames == 16 and meta.duration == pytest.approx(2.0)
    assert meta.sampled_fps == pytest.approx(2.0) and meta.timestamps == pytest.approx([0.25, 0.75, 1.25, 1.75])


def test_metadata_of_a_segment_reads_on_the_clips_clock():
    """8 frames of the segment [40, 50] s of a long 25 fps video: 0.8 fps, times from the clip's start."""
    times = 40 + (np.arange(8) + 0.5) * 1.25
    frames = Frames(np.zeros((8, 4, 4, 3), np.uint8), times, VideoInfo(duration=100.0, fps=25.0, width=4, height=4))
    meta = video_metadata(frames)
    assert meta.sampled_fps == pytest.approx(0.8) and meta.duration == pytest.approx(10.0)
    assert meta.timestamps == pytest.approx([0.625 + 1.25 * i for i in range(8)])


@pytest.mark.slow  # builds a model and imports transformers (seconds)
def test_qwen25_vl_encodes_time_from_the_sampled_rate(tmp_path):
    from videostar.models.tiny import TinyModelSpec, build_tiny_model

    model_dir = build_tiny_model(tmp_path / "m", TinyModelSpec(arch="qwen2_5_vl"))  # (makes torchvision importable)
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(model_dir)
    frames = Frames.from_array(np.full((8, 64, 64, 3), 100, dtype=np.uint8), fps=4.0)
    encoded = encode_prompt(processor, [{"role": "user", "content": "What moves?"}], frames)
    temporal_patch = processor.video_processor.temporal_patch_size
    assert encoded["second_per_grid_ts"].tolist() == pytest.approx([temporal_patch / 4.0])  # not 24 fps
    assert encoded["video_grid_thw"][0, 0].item() == 8 // temporal_patch  # every frame kept, none re-sampled
    video_token = processor.tokenizer.convert_tokens_to_ids("<|video_pad|>")
    assert int((encoded["input_ids"] == video_token).sum()) == int((encoded["mm_token_type_ids"] == 2).sum()) > 0
