"""Model backends behind one interface (see backend.py), chosen by a validated config."""

from __future__ import annotations

import os
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ModelConfig(BaseModel):
    """Which model generates, and where it runs.

    ``backend: hf`` loads ``path`` (a hub id or a local directory) in this process. ``backend:
    openai`` talks to an OpenAI-compatible server at ``base_url`` (e.g. ``vllm serve MODEL``, which
    is how videostar runs on vLLM); the key is read from the ``api_key_env`` variable.
    """

    model_config = ConfigDict(extra="forbid")
    path: str = Field(..., min_length=1)
    backend: Literal["hf", "openai"] = "hf"
    dtype: str = "auto"
    device: str = "auto"
    batch_size: int = Field(8, ge=1)
    trust_remote_code: bool = False
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = Field(8, ge=1)

    @model_validator(mode="after")
    def _server_needs_url(self) -> "ModelConfig":
        if self.backend == "openai" and not self.base_url:
            raise ValueError("backend 'openai' needs base_url (e.g. http://localhost:8000/v1)")
        return self


def load_backend(config: ModelConfig):
    if config.backend == "openai":
        from videostar.models.openai_api import OpenAIBackend

        return OpenAIBackend(config.base_url, config.path, api_key=os.environ.get(config.api_key_env),
                             concurrency=config.concurrency)
    from videostar.models.hf import HFBackend

    return HFBackend(config.path, dtype=config.dtype, device=config.device, batch_size=config.batch_size,
                     trust_remote_code=config.trust_remote_code)
