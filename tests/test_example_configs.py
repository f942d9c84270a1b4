from pathlib import Path

import pytest

from videostar.config import GenerateConfig, load_config

CONFIGS = sorted((Path(__file__).parent.parent / "examples" / "configs").glob("generate_*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_example_config_validates_and_starts_with_its_command(path):
    config = load_config(GenerateConfig, path)
    assert config.model.path
    assert path.read_text().startswith("# ") and "videostar generate --config " + str(path.relative_to(path.parents[2])) \
        in path.read_text()


def test_there_are_example_configs():
    assert len(CONFIGS) >= 3
