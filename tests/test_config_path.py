"""One config path: every config-taking command reads YAML + dotted KEY=VALUE overrides through one
loader, and a bad field is reported (file and field named) before any work starts."""

from __future__ import annotations

import pytest
import yaml
from typer.testing import CliRunner

import videostar.demo
import videostar.eval.evaluate
import videostar.models
import videostar.savi.loop
import videostar.star.generate
import videostar.star.loop
import videostar.train.trainers
import videostar.verify.files
from videostar.cli import app
from videostar.errors import VideostarError

runner = CliRunner()


class Captured(VideostarError):
    """Raised where a command would start its work: the test has what it needs by then."""


def _configs(tmp_path, manifest) -> dict[str, tuple[list[str], dict]]:
    """command -> (argv before --config, a valid config)"""
    generate = {"model": {"path": "m"}, "manifest": str(manifest), "run_dir": str(tmp_path / "run")}
    train = {"model": "m", "data": str(tmp_path / "d.jsonl"), "output_dir": str(tmp_path / "out")}
    return {
        "generate": (["generate"], generate),
        "star": (["star"], {"generate": generate}),
        "savi": (["savi"], {"generate": generate}),
        "eval": (["eval"], {"model": {"path": "m"}, "manifest": str(manifest)}),
        "verify": (["verify", str(tmp_path / "in.jsonl"), str(tmp_path / "out.jsonl")], {}),
        "train sft": (["train", "sft"], train),
        "train dpo": (["train", "dpo"], train),
        "demo": (["demo"], {"run_dir": str(tmp_path / "demo")}),
    }


def _write(tmp_path, name: str, data: dict):
    path = tmp_path / f"{name.replace(' ', '_')}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


# command -> (overrides, what the command's work must receive)
OVERRIDES = {
    "generate": (["frames.num_frames=16", "sampling.temperature=0.5"],
                 lambda c: c.frames.num_frames == 16 and c.sampling.temperature == 0.5),
    "star": (["train.learning_rate=1e-5", "generate.frames.num_frames=16", "forms=[cot, mc]"],
             lambda c: c.train.learning_rate == 1e-5 and c.generate.frames.num_frames == 16 and c.forms == ["cot", "mc"]),
    "savi": (["savi.questions_per_video=8", "generate.model.device=cpu"],
             lambda c: c.savi.questions_per_video == 8 and c.generate.model.device == "cpu"),
    "eval": (["frames.num_frames=3", "max_new_tokens=7"], lambda c: c["frames"].num_frames == 3 and c["max_new_tokens"] == 7),
    "verify": (["range_iou=0.7", "judge_types=[]"], lambda c: c.config.range_iou == 0.7),
    "train sft": (["lr_scheduler=cosine", "lora.r=4"], lambda c: c.lr_scheduler == "cosine" and c.lora.r == 4),
    "train dpo": (["dpo_beta=0.2"], lambda c: c.dpo_beta == 0.2),
    "demo": (["cycles=1", "train_steps=5"], lambda c: c.cycles == 1 and c.train_steps == 5),
}


@pytest.fixture
def capture(monkeypatch):
    """Stops each command where its work would start, keeping the settings it was given."""
    seen = {}

    def keep(key, value):
        seen[key] = value
        raise Captured("captured")

    monkeypatch.setattr(videostar.star.generate.Generation, "run", lambda self: keep("generate", self.config))
    monkeypatch.setattr(videostar.star.loop.StarLoop, "run", lambda self: keep("star", self.config))
    monkeypatch.setattr(videostar.savi.loop.SaviLoop, "run", lambda self: keep("savi", self.config))
    monkeypatch.setattr(videostar.models, "load_backend", lambda config: None)
    monkeypatch.setattr(videostar.eval.evaluate, "evaluate",
                        lambda backend, samples, frames, verifier, **kw: keep("eval", {"frames": frames, **kw}))
    monkeypatch.setattr(videostar.verify.files, "verify_file", lambda src, out, verifier, **kw: keep("verify", verifier))
    monkeypatch.setattr(videostar.train.trainers, "train_sft", lambda config: keep("train sft", config))
    monkeypatch.setattr(videostar.train.trainers, "train_dpo", lambda config: keep("train dpo", config))
    monkeypatch.setattr(videostar.demo.Demo, "run", lambda self: keep("demo", self.config))
    return seen


@pytest.mark.parametrize("command", list(OVERRIDES))
def test_dotted_overrides_reach_every_command(tmp_path, toy_manifest, capture, command):
    argv, config = _configs(tmp_path, toy_manifest)[command]
    overrides, check = OVERRIDES[command]
    result = runner.invoke(app, [*argv, "--config", str(_write(tmp_path, command, config)), *overrides])
    assert result.exit_code == 1 and "captured" in result.output, result.output
    assert check(capture[command]), capture[command]


# command -> (a field set wrong in the YAML, the field path the message must name)
BAD_FIELDS = {
    "generate": ({"frames": {"num_frames": 0}}, "frames.num_frames"),
    "star": ({"forms": ["bogus"]}, "forms.0"),
    "savi": ({"train": {"lr_scheduler": "cosinee"}}, "train.lr_scheduler"),
    "eval": ({"modes": ["open", "essay"]}, "modes.1"),
    "verify": ({"judge_types": ["txt"]}, "judge_types.0"),
    "train sft": ({"dtype": "float8"}, "dtype"),
    "train dpo": ({"lr_scheduler": "cosinee"}, "lr_scheduler"),
    "demo": ({"forms": ["cot", "bogus"]}, "forms.1"),
}


@pytest.mark.parametrize("command", list(BAD_FIELDS))
def test_a_bad_field_is_reported_with_file_and_field_before_any_work(tmp_path, toy_manifest, capture, command):
    argv, config = _configs(tmp_path, toy_manifest)[command]
    bad, field = BAD_FIELDS[command]
    path = _write(tmp_path, command, {**config, **bad})
    result = runner.invoke(app, [*argv, "--config", str(path)])
    assert result.exit_code == 1 and f"{path}: {field}: " in result.output.replace("\n", ""), result.output
    assert not capture and "Traceback" not in result.output
    assert not (tmp_path / "run").exists() and not (tmp_path / "demo").exists()
    # the same mistake as an override names the override's field
    override = runner.invoke(app, [*argv, "--config", str(_write(tmp_path, command, config)),
                                   f"{field.rsplit('.', 1)[0] if field[-1].isdigit() else field}="
                                   f"{yaml.safe_dump(_leaf(bad), default_flow_style=True).strip()}"])
    assert override.exit_code == 1 and f": {field}: " in override.output.replace("\n", ""), override.output


def _leaf(bad: dict):
    value = next(iter(bad.values()))
    return _leaf(value) if isinstance(value, dict) else value


def test_yaml_tags_are_refused_naming_the_file(tmp_path, capture):
    path = tmp_path / "evil.yaml"
    path.write_text('model: {path: m}\nmanifest: !!python/object/apply:os.system ["echo pwned"]\nrun_dir: r\n')
    result = runner.invoke(app, ["generate", "--config", str(path)])
    assert result.exit_code == 1 and f"{path}: line 2: YAML tag not allowed" in result.output.replace("\n", "")
    assert "pwned" not in result.output and not capture


def test_malformed_override_and_debug_traceback(tmp_path, toy_manifest, capture):
    argv, config = _configs(tmp_path, toy_manifest)["generate"]
    path = _write(tmp_path, "generate", config)
    result = runner.invoke(app, [*argv, "--config", str(path), "frames.num_frames"])
    assert result.exit_code == 1 and "expected dotted.key=value" in result.output
    debug = runner.invoke(app, ["--debug", *argv, "--config", str(path)])
    assert isinstance(debug.exception, Captured)  # --debug lets the error (and its traceback) through
