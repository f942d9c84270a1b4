"""Generate with vLLM's offline engine (``vllm.LLM``) in this process: ``backend: vllm``.

Each request becomes one of vLLM's documented prompt dicts: ``prompt`` is the chat rendered with
the model's processor chat template (the video as the template's video placeholder, which vLLM
expands), ``multi_modal_data={"video": (frames, metadata)}`` carries the sampled frames with their
metadata in the form vLLM's own video loaders return (see clip_video.vllm_video), and
``mm_processor_kwargs`` tells the model's HF processor not to re-sample them and at what rate they
were taken. Prefix caching is always on: the questions asked about one clip share the prompt
prefix up to and including the video, so its prefill is computed once per batch.

vLLM needs CUDA and is not a dependency of videostar (``pip install vllm`` on the GPU machine):
it is imported only when this backend is built. The request building below is pure, so it is
tested without vLLM; tests/models/test_vllm_gpu.py runs the real engine where one is installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Sequence

from videostar.errors import VideostarError
from videostar.models.backend import Generation, GenRequest, SamplingParams, with_video
from videostar.models.clip_video import vllm_video

if TYPE_CHECKING:
    from videostar.models import VLLMModelConfig


def engine_args(config: "VLLMModelConfig") -> dict:
    """Keyword arguments of ``vllm.LLM`` for a config."""
    return {"model": config.path, "dtype": config.dtype, "tensor_parallel_size": config.tensor_parallel_size,
            "gpu_memory_utilization": config.gpu_memory_utilization, "max_model_len": config.max_model_len,
            "limit_mm_per_prompt": dict(config.limit_mm_per_prompt), "trust_remote_code": config.trust_remote_code,
            "enable_prefix_caching": True}


def sampling_args(params: SamplingParams, seed: int) -> dict:
    """Keyword arguments of ``vllm.SamplingParams`` for ours (temperature 0 is greedy in both)."""
    return {"temperature": params.temperature, "top_p": params.top_p, "max_tokens": params.max_new_tokens,
            "seed": seed}


def vllm_prompt(request: GenRequest, render: Callable[[list[dict]], str]) -> dict:
    """vLLM's prompt dict for a request; ``render`` turns structured chat messages into the prompt text."""
    prompt = {"prompt": render(with_video(request.messages, request.video is not None))}
    if request.video is not None:
        frames, metadata = vllm_video(request.video)
        prompt["multi_modal_data"] = {"video": (frames, metadata)}
        # ``fps`` here means the rate of the frames handed over (Qwen2.5-VL's temporal step), not the source's
        sampled_fps = len(metadata["frames_indices"]) / metadata["total_num_frames"] * metadata["fps"]
        prompt["mm_processor_kwargs"] = {"do_sample_frames": False, "fps": sampled_fps}
    return prompt


def chat_renderer(model: str, trust_remote_code: bool = False) -> Callable[[list[dict]], str]:
    """The model's processor chat template, rendering a generation prompt as text."""
    from videostar.compat import ensure_torchvision_importable

    ensure_torchvision_importable()
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(model, trust_remote_code=trust_remote_code)
    return lambda messages: processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)


class VLLMBackend:
    name = "vllm"

    def __init__(self, config: "VLLMModelConfig"):
        try:
            from vllm import LLM
        except ImportError as err:
            raise VideostarError(f"model.backend 'vllm' needs vLLM, which is not importable here ({err}); "
                                 "install it on a CUDA machine (pip install vllm) or use backend 'hf'") from None
        self.render = chat_renderer(config.path, config.trust_remote_code)
        self.llm = LLM(**engine_args(config))

    def generate(self, requests: Sequence[GenRequest], params: SamplingParams) -> list[Generation]:
        from vllm import SamplingParams as VLLMSamplingParams

        prompts = [vllm_prompt(r, self.render) for r in requests]
        sampling = [VLLMSamplingParams(**sampling_args(params, params.seed + i)) for i in range(len(requests))]
        outputs = self.llm.generate(prompts, sampling, use_tqdm=False)
        return [Generation(o.outputs[0].text.strip(), len(o.prompt_token_ids), len(o.outputs[0].token_ids))
                for o in outputs]
