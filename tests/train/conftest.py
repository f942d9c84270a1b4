"""A tiny model of every supported family, each built once per test session."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def family_models(tmp_path_factory):
    """``family_models(arch)`` -> path of that family's tiny model (built on first use)."""
    from videostar.models.tiny import TinyModelSpec, build_tiny_model

    built = {}

    def get(arch: str):
        if arch not in built:
            built[arch] = build_tiny_model(tmp_path_factory.mktemp(arch) / "model", TinyModelSpec(arch=arch))
        return built[arch]

    return get


@pytest.fixture(scope="session")
def family_processors(family_models):
    from videostar.models.hf import load_processor_and_model

    loaded = {}

    def get(arch: str):
        if arch not in loaded:
            loaded[arch] = load_processor_and_model(str(family_models(arch)), device="cpu")[0]
        return loaded[arch]

    return get
