"""ModelConfig: one config class per backend under one name, chosen by `backend` (hf when absent)."""

import pytest

from videostar.config import ConfigError, GenerateConfig, load_config
from videostar.models import HFModelConfig, OpenAIModelConfig, VLLMModelConfig, load_backend


def _model(**fields):
    return load_config(GenerateConfig, None, {"manifest": "m.jsonl", "run_dir": "r",
                                              **{f"model.{k}": v for k, v in fields.items()}}).model


def test_backend_key_picks_the_config_class_and_hf_is_the_default():
    assert _model(path="m") == HFModelConfig(path="m", backend="hf", dtype="auto", device="auto", batch_size=8)
    server = _model(path="m", backend="openai", base_url="http://a:8000/v1")
    assert isinstance(server, OpenAIModelConfig) and server.base_url == ["http://a:8000/v1"]
    assert server.video_format == "video" and server.concurrency == 8
    engine = _model(path="m", backend="vllm", tensor_parallel_size=4)
    assert isinstance(engine, VLLMModelConfig) and engine.tensor_parallel_size == 4
    assert engine.limit_mm_per_prompt == {"image": 0, "video": 1}


@pytest.mark.parametrize("fields, message", [
    ({"backend": "openai"}, "model.openai.base_url: Field required"),
    ({"backend": "openai", "base_url": "localhost:8000"}, "model.openai.base_url: .*not an http"),
    ({"backend": "openai", "base_url": "http://a/v1", "dtype": "bfloat16"}, "model.openai.dtype: Extra inputs"),
    ({"backend": "vllm", "batch_size": 4}, "model.vllm.batch_size: Extra inputs"),
    ({"backend": "hf", "base_url": "http://a/v1"}, "model.hf.base_url: Extra inputs"),
    ({"backend": "vllm", "gpu_memory_utilization": 1.5}, "model.vllm.gpu_memory_utilization: .*less than or equal"),
    ({"backend": "tgi"}, "model: backend must be one of hf, openai, vllm"),
])
def test_errors_name_the_field_of_the_backend(fields, message):
    with pytest.raises(ConfigError, match=message):
        _model(path="m", **fields)


def test_openai_config_builds_a_backend_over_every_base_url(monkeypatch):
    monkeypatch.setenv("MY_KEY", "secret")
    config = _model(path="served", backend="openai", base_url=["http://a:8000/v1", "http://b:8001/v1/"],
                    api_key_env="MY_KEY", concurrency=3, video_format="images")
    backend = load_backend(config)
    assert backend.endpoints.urls == ["http://a:8000/v1/chat/completions", "http://b:8001/v1/chat/completions"]
    assert backend.endpoints.concurrency == 3 and backend.api_key == "secret" and backend.model == "served"
    assert backend.video_format == "images"
