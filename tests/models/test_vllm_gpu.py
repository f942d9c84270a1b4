"""The vLLM backend on a real engine: runs only where vLLM and a CUDA GPU are present (skipped here).

Uses the tiny Qwen2-VL of the test fixtures, or the model directory in VIDEOSTAR_VLLM_TEST_MODEL
(e.g. a local Qwen2.5-VL-3B-Instruct): see the README section on running vLLM in process.
"""

import importlib.util
import os

import pytest
from media import gray_frames

from videostar.models import VLLMModelConfig, load_backend
from videostar.models.backend import GenRequest, SamplingParams
from videostar.models.vllm import vllm_prompt
from videostar.video.decode import Frames


def _cuda() -> bool:
    if importlib.util.find_spec("vllm") is None:
        return False
    import torch

    return torch.cuda.is_available()


pytestmark = [pytest.mark.slow, pytest.mark.skipif(not _cuda(), reason="needs vLLM and a CUDA GPU")]


def test_vllm_engine_sees_the_same_video_tokens_as_the_hf_processor_and_answers(tiny_model):
    from transformers import AutoProcessor

    model = os.environ.get("VIDEOSTAR_VLLM_TEST_MODEL", str(tiny_model))
    backend = load_backend(VLLMModelConfig(path=model, backend="vllm", gpu_memory_utilization=0.3,
                                           max_model_len=4096))
    clip = Frames.from_array(gray_frames(8, height=112, width=112, step=30), fps=2.0)
    requests = [GenRequest([{"role": "user", "content": "What is shown?"}], clip)] * 2
    out = backend.generate(requests, SamplingParams(temperature=0.0, max_new_tokens=16))

    prompt = vllm_prompt(requests[0], backend.render)
    frames, metadata = prompt["multi_modal_data"]["video"]
    metadata = {k: v for k, v in metadata.items() if k != "do_sample_frames"}
    hf = AutoProcessor.from_pretrained(model)(text=[prompt["prompt"]], videos=[frames], video_metadata=[metadata],
                                              return_tensors="pt", **prompt["mm_processor_kwargs"])
    assert out[0].prompt_tokens == hf["input_ids"].shape[1]  # vLLM expanded the same frames into the same tokens
    assert out[0].completion_tokens > 0
    assert out[0].text == out[1].text  # greedy; the second request reuses the first one's cached prefix
