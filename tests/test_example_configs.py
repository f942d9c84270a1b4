import re
from pathlib import Path

import pytest

from videostar.config import EvalConfig, GenerateConfig, load_config
from videostar.rl.config import GRPORunConfig
from videostar.savi.loop import SaviConfig
from videostar.star.loop import StarConfig
from videostar.train.trainers import TrainConfig

ROOT = Path(__file__).parent.parent
CONFIGS = sorted((ROOT / "examples" / "configs").glob("*.yaml"))
KINDS = {"generate": GenerateConfig, "star": StarConfig, "savi": SaviConfig, "train": TrainConfig, "eval": EvalConfig,
         "grpo": GRPORunConfig}


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_example_config_validates_and_starts_with_its_command(path):
    load_config(KINDS[path.name.split("_")[0]], path)
    text = path.read_text()
    assert text.startswith("# ")
    header = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    assert re.search(r"videostar(\.cli)? \S.*--config " + re.escape(str(path.relative_to(ROOT))), header)


def test_there_are_example_configs_for_each_command():
    assert {p.name.split("_")[0] for p in CONFIGS} == set(KINDS)
    assert any("8gpu" in p.name for p in CONFIGS) and any("1gpu" in p.name for p in CONFIGS)


def test_there_is_an_example_generate_config_for_each_model_backend():
    from videostar.models import BACKENDS

    backends = {load_config(GenerateConfig, p).model.backend for p in CONFIGS if p.name.startswith("generate_")}
    assert backends == set(BACKENDS)
