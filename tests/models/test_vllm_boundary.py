"""The vLLM backend's request building, at the vLLM boundary (vLLM needs CUDA and is not installed
here): prompts are rendered by a real tiny model's processor and checked against vLLM's documented
input format, and the backend drives a fake ``vllm`` module standing in for the GPU-only library."""

import sys
import types

import numpy as np
import pytest
from media import gray_frames
from pydantic import TypeAdapter

from videostar.models import ModelConfig, VLLMModelConfig, load_backend
from videostar.models.backend import GenRequest, SamplingParams
from videostar.models.vllm import chat_renderer, engine_args, sampling_args, vllm_prompt
from videostar.video.decode import Frames

VIDEO_PLACEHOLDER = "<|vision_start|><|video_pad|><|vision_end|>"
TEXT_PROMPT_KEYS = {"prompt", "multi_modal_data", "mm_processor_kwargs"}  # vLLM's TextPrompt fields we use


@pytest.fixture(scope="module")
def render(tiny_model):
    return chat_renderer(str(tiny_model))


def _clip(count=4, fps=2.0):
    return Frames.from_array(gray_frames(count, height=56, width=56, step=40), fps=fps, start=3.0)


def test_boundary_prompt_is_the_processor_chat_template_with_one_video_placeholder(render):
    request = GenRequest([{"role": "system", "content": "sys"}, {"role": "user", "content": "what color?"},
                          {"role": "assistant", "content": "red"}, {"role": "user", "content": "sure?"}], _clip())
    prompt = vllm_prompt(request, render)
    assert set(prompt) == TEXT_PROMPT_KEYS
    text = prompt["prompt"]
    assert text.count(VIDEO_PLACEHOLDER) == 1
    assert text.index("sys") < text.index(VIDEO_PLACEHOLDER) < text.index("what color?") < text.index("sure?")
    assert text.endswith("<|im_start|>assistant\n")  # a generation prompt
    plain = vllm_prompt(GenRequest([{"role": "user", "content": "hi"}]), render)
    assert set(plain) == {"prompt"} and "<|video_pad|>" not in plain["prompt"]


def test_boundary_video_is_the_sampled_frames_with_metadata_vllm_and_hf_accept(render):
    from transformers.video_utils import VideoMetadata

    clip = _clip(count=4, fps=2.0)
    prompt = vllm_prompt(GenRequest([{"role": "user", "content": "q"}], clip), render)
    frames, metadata = prompt["multi_modal_data"]["video"]
    assert frames is clip.array and frames.dtype == np.uint8 and frames.shape == (4, 56, 56, 3)
    assert metadata == {"total_num_frames": 4, "fps": 2.0, "duration": 2.0, "frames_indices": [0.5, 1.5, 2.5, 3.5],
                        "video_backend": "videostar", "do_sample_frames": False}
    assert prompt["mm_processor_kwargs"] == {"do_sample_frames": False, "fps": 2.0}
    # vLLM hands the metadata (less do_sample_frames) to the model's HF processor as a VideoMetadata:
    # the frames' real times on the clip's clock and their real spacing
    hf = VideoMetadata(**{k: v for k, v in metadata.items() if k != "do_sample_frames"})
    assert hf.timestamps == [0.25, 0.75, 1.25, 1.75] and hf.sampled_fps == 2.0


def test_boundary_processor_expands_the_video_like_the_hf_backend(render, tiny_backend):
    """What vLLM does with the prompt: the HF processor call on (prompt, video, metadata, kwargs)
    gives exactly the tokens the in-process HF backend feeds the same model."""
    request = GenRequest([{"role": "user", "content": "how many?"}], _clip(count=4))
    prompt = vllm_prompt(request, render)
    frames, metadata = prompt["multi_modal_data"]["video"]
    metadata = {k: v for k, v in metadata.items() if k != "do_sample_frames"}
    ids = tiny_backend.processor(text=[prompt["prompt"]], videos=[frames], video_metadata=[metadata],
                                 return_tensors="pt", **prompt["mm_processor_kwargs"])["input_ids"]
    assert ids.tolist() == tiny_backend.encode([request])["input_ids"].tolist()


def test_boundary_engine_and_sampling_args():
    config = TypeAdapter(ModelConfig).validate_python(
        {"path": "Qwen/Qwen2.5-VL-7B-Instruct", "backend": "vllm", "tensor_parallel_size": 2, "dtype": "bfloat16",
         "gpu_memory_utilization": 0.8, "max_model_len": 16384})
    assert isinstance(config, VLLMModelConfig)
    assert engine_args(config) == {
        "model": "Qwen/Qwen2.5-VL-7B-Instruct", "dtype": "bfloat16", "tensor_parallel_size": 2,
        "gpu_memory_utilization": 0.8, "max_model_len": 16384, "limit_mm_per_prompt": {"image": 0, "video": 1},
        "trust_remote_code": False, "enable_prefix_caching": True}
    params = SamplingParams(temperature=0.2, top_p=0.9, max_new_tokens=1024, seed=5)
    assert sampling_args(params, 7) == {"temperature": 0.2, "top_p": 0.9, "max_tokens": 1024, "seed": 7}


class FakeLLM:
    """Stands in for ``vllm.LLM`` (GPU-only): records its arguments, answers with token counts."""

    instances: list = []

    def __init__(self, **kwargs):
        self.kwargs, self.calls = kwargs, []
        FakeLLM.instances.append(self)

    def generate(self, prompts, sampling_params, use_tqdm=True):
        self.calls.append((prompts, sampling_params))
        return [types.SimpleNamespace(prompt_token_ids=[0] * (10 + i),
                                      outputs=[types.SimpleNamespace(text=f" answer {i} ", token_ids=[1, 2, 3])])
                for i, _ in enumerate(prompts)]


def test_backend_drives_fake_vllm_engine_at_the_boundary(monkeypatch, tiny_model):
    fake = types.ModuleType("vllm")
    fake.LLM, fake.SamplingParams = FakeLLM, lambda **kwargs: kwargs
    monkeypatch.setitem(sys.modules, "vllm", fake)
    backend = load_backend(VLLMModelConfig(path=str(tiny_model), backend="vllm"))
    requests = [GenRequest([{"role": "user", "content": f"q{i}"}], _clip()) for i in range(2)]
    out = backend.generate(requests + [GenRequest([{"role": "user", "content": "text only"}])],
                           SamplingParams(temperature=0.0, max_new_tokens=9, seed=3))
    llm = FakeLLM.instances[-1]
    assert llm.kwargs["model"] == str(tiny_model) and llm.kwargs["enable_prefix_caching"] is True
    prompts, sampling = llm.calls[0]
    assert [p["prompt"].count(VIDEO_PLACEHOLDER) for p in prompts] == [1, 1, 0]
    assert [s["seed"] for s in sampling] == [3, 4, 5] and all(s["max_tokens"] == 9 for s in sampling)
    assert [(g.text, g.prompt_tokens, g.completion_tokens) for g in out] == [
        ("answer 0", 10, 3), ("answer 1", 11, 3), ("answer 2", 12, 3)]


def test_backend_without_vllm_names_the_fix(monkeypatch, tiny_model):
    monkeypatch.setitem(sys.modules, "vllm", None)  # import vllm -> ImportError
    from videostar.errors import VideostarError

    with pytest.raises(VideostarError, match="backend 'vllm' needs vLLM.*pip install vllm"):
        load_backend(VLLMModelConfig(path=str(tiny_model), backend="vllm"))


def test_boundary_metadata_gives_qwen25_vl_the_frames_real_spacing(tmp_path):
    """Qwen2.5-VL's temporal position step is temporal_patch_size / rate: 2 frames 2 s apart -> 4 s;
    without the metadata transformers assumes 24 fps (2/24 s)."""
    from transformers import AutoProcessor

    from videostar.models.tiny import TinyModelSpec, build_tiny_model

    model = build_tiny_model(tmp_path / "qwen25", TinyModelSpec(arch="qwen2_5_vl"))
    prompt = vllm_prompt(GenRequest([{"role": "user", "content": "q"}], _clip(count=4, fps=0.5)),
                         chat_renderer(str(model)))
    frames, metadata = prompt["multi_modal_data"]["video"]
    metadata = {k: v for k, v in metadata.items() if k != "do_sample_frames"}
    processor = AutoProcessor.from_pretrained(str(model))
    out = processor(text=[prompt["prompt"]], videos=[frames], video_metadata=[metadata], return_tensors="pt",
                    **prompt["mm_processor_kwargs"])
    assert out["second_per_grid_ts"].tolist() == [4.0]
