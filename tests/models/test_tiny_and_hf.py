import os
import time

import numpy as np
import pytest

from videostar.models.backend import GenRequest, SamplingParams
from videostar.models.families import FAMILIES
from videostar.models.tiny import TinyModelSpec, build_tiny_model
from videostar.video.decode import Frames


@pytest.mark.parametrize("arch", [name for name, family in FAMILIES.items() if family.supported])
def test_tiny_model_builds_fast_small_and_loads_offline(tmp_path, arch):
    from videostar.compat import ensure_torchvision_importable

    ensure_torchvision_importable()  # torchvision's CUDA wheel beside CPU torch (see compat.py)
    from transformers import AutoModelForImageTextToText, AutoProcessor

    build_tiny_model(tmp_path / "warm", TinyModelSpec(arch=arch))  # imports paid once
    start = time.perf_counter()
    path = build_tiny_model(tmp_path / "m", TinyModelSpec(arch=arch))
    assert time.perf_counter() - start < 1.0
    assert sum(f.stat().st_size for f in path.iterdir()) < 1_000_000
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    processor = AutoProcessor.from_pretrained(path)
    model = AutoModelForImageTextToText.from_pretrained(path, use_safetensors=True)
    assert 100_000 < sum(p.numel() for p in model.parameters()) < 400_000
    assert model.config.model_type == FAMILIES[arch].model_type
    assert type(processor).__name__ in FAMILIES[arch].processors


def test_the_readme_shows_the_family_table():
    from pathlib import Path

    from videostar.models.families import markdown_table

    assert markdown_table() in (Path(__file__).parents[2] / "README.md").read_text()


def test_unknown_arch_names_the_known_ones():
    with pytest.raises(ValueError, match="qwen3_vl"):
        TinyModelSpec(arch="gpt2")


def _requests(n, rng):
    return [GenRequest([{"role": "user", "content": "describe " * (i + 1)}],
                       Frames.from_array(rng.integers(0, 255, (8, 64, 64, 3), dtype=np.uint8))) for i in range(n)]


def test_sampling_is_seeded_and_text_only_requests_work(tiny_backend):
    requests = _requests(2, np.random.default_rng(1)) + [GenRequest([{"role": "user", "content": "hi"}])]
    params = SamplingParams(temperature=1.0, max_new_tokens=6, seed=3)
    first = [g.text for g in tiny_backend.generate(requests, params)]
    assert first == [g.text for g in tiny_backend.generate(requests, params)]
    assert first != [g.text for g in tiny_backend.generate(requests, params.model_copy(update={"seed": 4}))]
