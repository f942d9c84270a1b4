"""The pretraining-recipe probe (benchmarks/toy_recipe_probe.py): its mixes and schedules are what its
results table says they are, and the key/value-head setting reaches the model it builds."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from videostar.prompts import Prompts
from videostar.toyworld.instructions import general_examples
from videostar.toyworld.scenes import sample_scene

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "toy_recipe_probe.py"


@pytest.fixture(scope="module")
def probe():
    spec = importlib.util.spec_from_file_location("toy_recipe_probe", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rows() -> list[dict]:
    rng = np.random.default_rng(0)
    return [e for i in range(4) for e in general_examples(sample_scene(np.random.default_rng([9, i])), rng, Prompts())]


def test_short_first_mix_trains_short_answers_first_then_everything(probe):
    rows = _rows()
    settings = {**probe.BASE, **probe.PROBES["short_first"], "steps": 100}
    early, late = probe._rows_for(0, settings, rows), probe._rows_for(60, settings, rows)
    assert {r["form"] for r in early} == {"direct", "mc"} and len(early) == 4 * 4
    assert {r["task"] for r in late} == {"object color", "object count", "caption"} and late == rows
    assert probe._rows_for(0, {**probe.BASE, "steps": 100}, rows) == rows  # the "all" mix: everything


def test_cosine_schedule_warms_up_then_decays_to_zero(probe):
    factor = probe._schedule({**probe.BASE, "schedule": "cosine", "warmup": 50, "steps": 1000})
    assert factor(0) == pytest.approx(1 / 50) and factor(49) > 0.99
    assert factor(500) == pytest.approx(0.5) and factor(1000) == pytest.approx(0.0)
    assert probe._schedule(probe.BASE)(10) == 1.0  # constant, as pretrain.py


@pytest.mark.slow
def test_kv_heads_reach_the_language_model(tmp_path):
    from transformers import AutoConfig

    from videostar.models.tiny import build_tiny_model
    from videostar.toyworld.pretrain import DEMO_MODEL

    built = build_tiny_model(tmp_path / "kv1", DEMO_MODEL.model_copy(update={"kv_heads": 1}))
    assert AutoConfig.from_pretrained(built).text_config.num_key_value_heads == 1
    assert AutoConfig.from_pretrained(build_tiny_model(tmp_path / "demo", DEMO_MODEL)).text_config.num_key_value_heads == 4
