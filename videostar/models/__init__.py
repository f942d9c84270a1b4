"""Model backends behind one interface (see backend.py), chosen by a validated config.

``ModelConfig`` is one config per backend under one name: the ``backend`` key picks the class
(``hf`` when the key is absent, so older configs keep working) and each class holds only the
fields its backend uses, so a misplaced field (``dtype`` for a server) is an error naming it.
Build one from a dict with ``pydantic.TypeAdapter(ModelConfig).validate_python(data)`` or use a
class directly (``HFModelConfig(path=...)``).
"""

from __future__ import annotations

import os
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator

BACKENDS = ("hf", "openai", "vllm")


class _ModelFields(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str = Field(..., min_length=1, description="hub id or local directory (for a server: the served name)")


class HFModelConfig(_ModelFields):
    """``backend: hf``: transformers in this process (any ``AutoModelForImageTextToText`` with video)."""

    backend: Literal["hf"] = "hf"
    dtype: str = "auto"
    device: str = "auto"
    batch_size: int = Field(8, ge=1, description="requests per forward pass")
    trust_remote_code: bool = False


class OpenAIModelConfig(_ModelFields):
    """``backend: openai``: one or more OpenAI-compatible servers (``vllm serve``, SGLang, hosted APIs).

    Several ``base_url``s (N ``vllm serve`` replicas) share the requests, each with up to
    ``concurrency`` in flight. ``video_format: video`` sends the sampled clip as one mp4
    (``video_url``, what vLLM serves video models with); ``images`` sends one JPEG per frame for
    APIs without video input.
    """

    backend: Literal["openai"]
    base_url: list[str] = Field(..., min_length=1, description="a URL ending in /v1, or a list of them")
    api_key_env: str = Field("OPENAI_API_KEY", description="environment variable holding the API key")
    concurrency: int = Field(8, ge=1, description="requests in flight per base_url")
    video_format: Literal["video", "images"] = "video"
    retries: int = Field(4, ge=0, description="retries of a request on busy/unreachable servers")
    timeout_s: float = Field(300.0, gt=0, description="seconds to wait for one answer")

    @field_validator("base_url", mode="before")
    @classmethod
    def _one_or_many(cls, value):
        return [value] if isinstance(value, str) else value

    @field_validator("base_url")
    @classmethod
    def _http_urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{url!r} is not an http(s) URL (e.g. http://localhost:8000/v1)")
        return urls


class VLLMModelConfig(_ModelFields):
    """``backend: vllm``: vLLM's offline engine (``vllm.LLM``) in this process, on this machine's GPUs."""

    backend: Literal["vllm"]
    dtype: str = "auto"
    tensor_parallel_size: int = Field(1, ge=1, description="GPUs one model is split over")
    gpu_memory_utilization: float = Field(0.9, gt=0, le=1, description="share of each GPU vLLM may take")
    max_model_len: int | None = Field(None, ge=1, description="context length; None: the model's")
    limit_mm_per_prompt: dict[str, int] = Field(default_factory=lambda: {"image": 0, "video": 1},
                                                description="media items per prompt vLLM reserves memory for")
    trust_remote_code: bool = False


def _backend_of(value) -> str:
    """The discriminator: the ``backend`` key, ``hf`` when it is absent."""
    if isinstance(value, dict):
        return value.get("backend", "hf")
    return getattr(value, "backend", "hf")


ModelConfig = Annotated[
    Union[Annotated[HFModelConfig, Tag("hf")], Annotated[OpenAIModelConfig, Tag("openai")],
          Annotated[VLLMModelConfig, Tag("vllm")]],
    Discriminator(_backend_of, custom_error_type="unknown_backend",
                  custom_error_message=f"backend must be one of {', '.join(BACKENDS)}"),
]


def load_backend(config: HFModelConfig | OpenAIModelConfig | VLLMModelConfig):
    """The backend a config describes (its heavy imports happen here, not at package import)."""
    if isinstance(config, OpenAIModelConfig):
        from videostar.models.openai_api import OpenAIBackend

        return OpenAIBackend(config.base_url, config.path, api_key=os.environ.get(config.api_key_env),
                             concurrency=config.concurrency, video_format=config.video_format,
                             retries=config.retries, timeout_s=config.timeout_s)
    if isinstance(config, VLLMModelConfig):
        from videostar.models.vllm import VLLMBackend

        return VLLMBackend(config)
    from videostar.models.hf import HFBackend

    return HFBackend(config.path, dtype=config.dtype, device=config.device, batch_size=config.batch_size,
                     trust_remote_code=config.trust_remote_code)
