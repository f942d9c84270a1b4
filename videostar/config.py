"""Run configs: YAML in, validated pydantic models out, errors naming the file and field.

Every command that takes a config reads it through ``load_config``: the YAML file, then dotted
overrides (``train.learning_rate=1e-5``, values read as YAML scalars; the everyday flags such as
``--model`` are shortcuts for the same keys), then validation of everything that can be checked
before work starts. Each YAML file in examples/configs starts with the command that runs it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from videostar.errors import VideostarError
from videostar.models import ModelConfig
from videostar.models.backend import SamplingParams
from videostar.prompts import Prompts
from videostar.verify.verifier import VerifierConfig
from videostar.video.sampling import FrameSampling


class ConfigError(VideostarError, ValueError):
    """A config file or override is invalid: the message names the file (or override) and field."""


class QuestionsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    templates_per_sample: int = Field(1, ge=0, description="template questions per sample (paraphrases)")
    model_questions: int = Field(0, ge=0, description="questions the model writes per sample from its labels")
    max_chars: int = Field(200, ge=10, description="longer model-written questions are dropped")


class RayConfig(BaseModel):
    """Where and how wide the Ray Data runner (``engine: ray``) runs."""

    model_config = ConfigDict(extra="forbid")
    address: str | None = Field(None, description="a cluster to join ('auto', 'ray://head:10001'); null: a local Ray")
    num_cpus: int | None = Field(None, ge=1, description="CPUs of a local Ray (ignored when joining a cluster)")
    model_actors: int = Field(1, ge=1, description="model replicas (one per GPU on a GPU cluster)")
    gpus_per_actor: float = Field(0.0, ge=0, description="1 on GPU nodes; 0 runs the model actors on CPU")
    verify_actors: int = Field(1, ge=1, description="CPU actors verifying replies and writing ledger shards")


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
    retry_skipped: bool = Field(False, description="try clips recorded as unreadable again (--retry-skipped)")
    allow_outside_root: bool = Field(False, description="let relative video paths leave the manifest's folder")
    seed: int = 0
    engine: Literal["local", "ray"] = Field("local", description="local: this process; ray: Ray Data (--engine)")
    decode_workers: int = Field(0, ge=0, description="processes decoding batches ahead of the model; 0: in the loop")
    prefetch_batches: int = Field(2, ge=1, description="decoded batches the decode pool keeps ready")
    ray: RayConfig = RayConfig()


def _set(data: dict, dotted: str, value) -> None:
    node = data
    *parents, leaf = dotted.split(".")
    for key in parents:
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            raise ConfigError(f"override {dotted}: {key} is not a section")
        node = child
    node[leaf] = value


def read_yaml(path: str | Path):
    """Plain YAML from ``path``; tags that construct objects (``!!python/object`` ...) are refused."""
    import yaml

    try:
        return yaml.safe_load(Path(path).read_text())
    except OSError as err:
        raise ConfigError(f"{path}: cannot read: {err.strerror}") from None
    except yaml.constructor.ConstructorError as err:
        line = f"line {err.problem_mark.line + 1}: " if err.problem_mark else ""
        raise ConfigError(f"{path}: {line}YAML tag not allowed ({err.problem}); configs are plain YAML") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: invalid YAML: {err}") from None


def parse_overrides(items: list[str] | None) -> dict:
    """``["a.b=1", "c=[x, y]"]`` -> {"a.b": 1, "c": ["x", "y"]} (values parsed as YAML)."""
    import yaml

    out = {}
    for item in items or []:
        key, sep, text = item.partition("=")
        if not sep or not key or any(not part for part in key.split(".")):
            raise ConfigError(f"override {item!r}: expected dotted.key=value")
        try:
            out[key] = yaml.safe_load(text) if text.strip() else ""
        except yaml.YAMLError as err:
            raise ConfigError(f"override {item!r}: cannot read the value: {err}") from None
    return out


def load_config(model_cls: type[BaseModel], path: Path | None, overrides: dict | None = None):
    """Read YAML (optional), apply dotted-key overrides that are not None, validate."""
    data = read_yaml(path) if path is not None else {}
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the config must be a mapping of fields")
    for key, value in (overrides or {}).items():
        if value is not None:
            _set(data, key, value)
    source = str(path) if path else "command line"
    try:
        return model_cls.model_validate(data)
    except ValidationError as err:
        lines = [f"{source}: {'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}" for e in err.errors()]
        raise ConfigError("\n".join(lines)) from None


class EvalConfig(BaseModel):
    """Held-out evaluation (``videostar eval``): any backend; frame sampling and prompts default to
    those ``run_dir`` recorded (a generation run, or a loop whose first round is read), else the defaults."""

    model_config = ConfigDict(extra="forbid")
    model: ModelConfig
    manifest: Path
    allow_outside_root: bool = Field(False, description="let relative video paths leave the manifest's folder")
    out: Path | None = None
    run_dir: Path | None = Field(None, description="take frame sampling and prompts from this run")
    frames: FrameSampling | None = None
    prompts: Prompts | None = None
    splits: list[str] | None = Field(None, description="null: every split")
    modes: list[Literal["open", "mc"]] = Field(default_factory=lambda: ["open", "mc"])
    swapped: bool = Field(True, description="also ask every prompt about another sample's clip of the same "
                                            "task: grounded = real - swapped accuracy")
    max_new_tokens: int = Field(64, ge=1)
    batch_size: int = Field(32, ge=1)
    verifier: VerifierConfig = VerifierConfig()
    seed: int = 0
    engine: Literal["local", "ray"] = Field("local", description="local: this process; ray: Ray Data (--engine), "
                                                                  "the model loaded only in Ray's model actors")
    ray: RayConfig = RayConfig()
