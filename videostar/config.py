"""Run configs: YAML in, validated pydantic models out, errors naming the file and field.

Each YAML file in examples/configs starts with the command that runs it. Command-line flags
override fields after the file is read (``--model`` sets ``model.path``, and so on).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from videostar.models import ModelConfig
from videostar.models.backend import SamplingParams
from videostar.prompts import Prompts
from videostar.verify.verifier import VerifierConfig
from videostar.video.sampling import FrameSampling


class ConfigError(ValueError):
    pass


class QuestionsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    templates_per_sample: int = Field(1, ge=0, description="template questions per sample (paraphrases)")
    model_questions: int = Field(0, ge=0, description="questions the model writes per sample from its labels")
    max_chars: int = Field(200, ge=10, description="longer model-written questions are dropped")


class GenerateConfig(BaseModel):
    """Video-STaR data generation: questions, answers, verification, rationalization."""

    model_config = ConfigDict(extra="forbid")
    model: ModelConfig
    manifest: Path
    run_dir: Path
    splits: list[str] | None = Field(default_factory=lambda: ["train"], description="null: every split")
    max_samples: int | None = Field(None, ge=1)
    frames: FrameSampling = FrameSampling()
    sampling: SamplingParams = SamplingParams()
    steps: list[Literal["answer", "rationalize"]] = Field(default_factory=lambda: ["answer", "rationalize"])
    samples_per_question: int = Field(1, ge=1, description="answers drawn per question")
    rationalize_samples: int = Field(1, ge=1, description="rationalizations drawn per failed question")
    batch_size: int = Field(32, ge=1, description="requests per model call, formed across videos")
    questions: QuestionsConfig = QuestionsConfig()
    verifier: VerifierConfig = VerifierConfig()
    prompts: Prompts = Prompts()
    frame_cache_bytes: int = Field(2 * 1024**3, ge=0)
    seed: int = 0


def _set(data: dict, dotted: str, value) -> None:
    node = data
    *parents, leaf = dotted.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value


def load_config(model_cls: type[BaseModel], path: Path | None, overrides: dict | None = None):
    """Read YAML (optional), apply dotted-key overrides that are not None, validate."""
    import yaml

    data: dict = {}
    source = str(path) if path else "command line"
    if path is not None:
        try:
            data = yaml.safe_load(Path(path).read_text()) or {}
        except OSError as err:
            raise ConfigError(f"{path}: cannot read: {err.strerror}") from None
        except yaml.YAMLError as err:
            raise ConfigError(f"{path}: invalid YAML: {err}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: the config must be a mapping of fields")
    for key, value in (overrides or {}).items():
        if value is not None:
            _set(data, key, value)
    try:
        return model_cls.model_validate(data)
    except ValidationError as err:
        lines = [f"{source}: {'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}" for e in err.errors()]
        raise ConfigError("\n".join(lines)) from None
