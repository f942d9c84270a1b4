"""Every supported family end to end on its tiny model: batched generation (left padding) equals
one request at a time, and the model sees exactly the frames the run sampled, with their times."""

import re

import numpy as np
import pytest

from videostar.models.backend import GenRequest, SamplingParams
from videostar.models.families import FAMILIES
from videostar.models.hf import HFBackend
from videostar.video.decode import Frames

SUPPORTED = [name for name, family in FAMILIES.items() if family.supported]


@pytest.fixture(scope="module")
def backends(tmp_path_factory):
    from videostar.models.tiny import TinyModelSpec, build_tiny_model

    made = {}

    def get(arch):
        if arch not in made:
            path = build_tiny_model(tmp_path_factory.mktemp(arch) / "model", TinyModelSpec(arch=arch))
            made[arch] = HFBackend(str(path), device="cpu", batch_size=4)
        return made[arch]

    return get


def _frames(seed=0, count=8, fps=2.0, start=3.0):
    """8 frames sampled at 2 fps from the clip [3, 7] s: at 3.25, 3.75, ..., 6.75 s of the video, which
    are 0.25, 0.75, ..., 3.75 s of the clip (exact in binary)."""
    array = np.random.default_rng(seed).integers(0, 255, (count, 48, 64, 3), dtype=np.uint8)
    return Frames.from_array(array, fps=fps, start=start)


@pytest.mark.parametrize("arch", SUPPORTED)
def test_batched_generation_equals_one_at_a_time(arch, backends):
    backend = backends(arch)
    requests = [GenRequest([{"role": "user", "content": "describe " * (i + 1)}], _frames(i)) for i in range(3)]
    greedy = SamplingParams(temperature=0, max_new_tokens=5)
    batched = backend.generate(requests, greedy)
    single = [backend.generate([r], greedy)[0] for r in requests]
    assert [g.text for g in batched] == [g.text for g in single]
    assert [g.prompt_tokens for g in batched] == [g.prompt_tokens for g in single]
    assert batched[2].prompt_tokens > batched[0].prompt_tokens
    assert all(0 < g.completion_tokens <= 5 for g in batched)


def _seen(arch, inputs, text):
    """(number of frames the model gets, the times written in its prompt) for one video."""
    if arch == "hyperclovax_vision_v2":  # the clip's duration instead of per-frame times
        return int(inputs["video_grid_thw"][0][0]) * 2, re.findall(r'"video_duration": ([\d.]+)', text)
    if arch in ("qwen2_vl", "qwen2_5_vl", "exaone4_5"):
        return int(inputs["video_grid_thw"][0][0]) * 2, []
    if arch in ("qwen3_vl", "lfm3_vl"):
        return int(inputs["video_grid_thw"][0][0]) * 2, re.findall(r"<([\d.]+) seconds>", text)
    if arch == "glm4v":
        return int(inputs["video_grid_thw"][0][0]) * 2, re.findall(r"<\|end_of_image\|>(\d+)", text)
    if arch == "glm46v":
        return int(inputs["video_grid_thw"][0][0]) * 2, re.findall(r"<\|end_of_image\|>([\d.]+) seconds", text)
    if arch == "video_llama_3":
        return int(inputs["video_grid_thw"][0][0]), re.findall(r"Time ([\d.]+)s:", text)
    if arch == "smolvlm":
        return int(inputs["pixel_values"].shape[1]), re.findall(r"Frame from (\d\d:\d\d):", text)
    if arch == "internvl":
        return int(inputs["pixel_values"].shape[0]), re.findall(r"Frame(\d+):", text)
    return int(inputs["pixel_values_videos"].shape[1]), []  # the LLaVA families write no times


def _expected_times(arch, frames):
    times = [t - 3.0 for t in frames.times]  # the clip's own clock: it starts at 3 s (see _frames)
    pairs = [(a + b) / 2 for a, b in zip(times[::2], times[1::2])]
    return {"qwen3_vl": [f"{t:.1f}" for t in pairs], "lfm3_vl": [f"{t:.1f}" for t in pairs],
            "glm4v": [str(int(t)) for t in times[::2]],
            "glm46v": [f"{t:.1f}" for t in times[::2]],
            "video_llama_3": [f"{t:.1f}" for t in times],
            "smolvlm": [f"{int(t // 60):02d}:{int(t % 60):02d}" for t in times],
            "internvl": [str(i + 1) for i in range(len(times))],
            "hyperclovax_vision_v2": [str(frames.info.duration)]}.get(arch, [])


@pytest.mark.parametrize("arch", SUPPORTED)
def test_the_model_sees_the_sampled_frames_at_their_times(arch, backends):
    backend = backends(arch)
    frames = _frames()
    inputs = backend.encode([GenRequest([{"role": "user", "content": "what happens?"}], frames)])
    text = backend.processor.tokenizer.decode(inputs["input_ids"][0])
    # Qwen3-VL-MoE and Qwen3.5 use Qwen3-VL's processor: read the prompt as the processor's family writes it
    kind = next(f.name for f in FAMILIES.values() if type(backend.processor).__name__ in f.processors)
    count, written = _seen(kind, inputs, text)
    assert count == 8
    assert written == _expected_times(kind, frames)
    if arch == "qwen2_5_vl":  # absolute time in the rotary positions: one temporal patch = 2 frames at 2 fps
        assert inputs["second_per_grid_ts"].tolist() == [1.0]


@pytest.mark.parametrize("arch", SUPPORTED)
def test_grpo_suppresses_the_token_that_stands_for_the_video(arch, backends):
    """GRPO must never sample the token a family's processor puts where the video's features go
    (scoring the completion would then refuse the input); TRL suppresses only the image one, and
    several families (GLM-4.1V, InternVL, SmolVLM) stand for video frames with the image token."""
    from videostar.models.inputs import model_inputs
    from videostar.rl.run import placeholder_token_ids

    backend = backends(arch)
    suppressed = placeholder_token_ids(backend.model.config)
    chat = [[{"role": "user", "content": "describe"}]]
    with_video = model_inputs(backend.processor, chat, [_frames()], True, "left")["input_ids"][0].tolist()
    text_only = model_inputs(backend.processor, chat, [None], True, "left")["input_ids"][0].tolist()
    assert sum(with_video.count(i) for i in suppressed) >= 4  # the video's feature positions
    assert not any(i in suppressed for i in text_only)  # and nothing that text alone uses
