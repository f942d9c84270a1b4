import json

import numpy as np
import pytest
from typer.testing import CliRunner

from videostar.cli import app
from videostar.data.manifest import load_manifest
from videostar.demo import Demo, DemoConfig
from videostar.eval.evaluate import evaluate
from videostar.models.backend import Generation as Reply
from videostar.toyworld.dataset import make_toy_dataset
from videostar.toyworld.instructions import ADAPTED_TASKS, GENERAL_TASKS, demo_labels
from videostar.toyworld.pretrain import PretrainConfig, pretrain
from videostar.toyworld.scenes import sample_scene
from videostar.video.sampling import FrameSampling

runner = CliRunner()


class OracleBackend:
    """A stand-in model at the model boundary that knows every answer: open answers name the label,
    multiple-choice replies pick the option holding it. Evaluation must then score 100%."""

    name = "oracle"

    def __init__(self, samples, frames):
        from videostar.star.questions import template_questions

        self.frames = frames  # video -> the frames evaluation will send
        self.answers = {}  # video -> [(question, answer)]
        for s in samples:
            self.answers.setdefault(s.video, []).append((template_questions(s, 1)[0].text, s.labels[0].render()))

    def generate(self, requests, params):
        out = []
        for r in requests:
            prompt = r.messages[0]["content"]
            video = next(v for v, frames in self.frames.items() if np.array_equal(frames, r.video.array))
            answer = next(a for q, a in self.answers[video] if q in prompt)
            if "Options:" in prompt:
                line = next(l for l in prompt.splitlines() if l.endswith(") " + answer))
                out.append(Reply(f"{line[:3]} {answer}", 1, 1))
            else:
                out.append(Reply(f"Looking closely.\nFinal answer: {answer}", 1, 1))
        return out


def test_demo_labels_are_exact_and_tasks_disjoint():
    assert not set(GENERAL_TASKS) & set(ADAPTED_TASKS)
    for i in range(30):
        scene = sample_scene(np.random.default_rng([3, i]))
        labels = demo_labels(scene)
        last = max(scene.objects, key=lambda o: o.appear)
        assert labels["last object color"].value == last.color
        assert all(o.appear < last.appear for o in scene.objects if o is not last)  # "last" is unambiguous
        assert labels["small object count"].value == len(scene.objects) - 1
        assert labels["object count"].value == len(scene.objects)


def test_evaluate_scores_an_oracle_at_100(tmp_path):
    from videostar.video.decode import decode

    samples = load_manifest(make_toy_dataset(tmp_path, n=6, seed=9, labeler="demo"))
    spec = FrameSampling(num_frames=8)
    oracle = OracleBackend(samples, {s.video: decode(s.video, spec).array for s in samples})
    result = evaluate(oracle, samples, spec, swapped=False)  # the oracle knows each video's own answers
    assert set(result["tasks"]) == set(GENERAL_TASKS + ADAPTED_TASKS)
    for task, row in result["tasks"].items():
        distinct = {s.labels[0].render() for s in samples if s.task == task}
        assert row["open"] == 100.0 and row["n"] == 6
        assert row.get("mc") == (100.0 if len(distinct) > 1 else None)  # no distractor, no multiple choice
    assert result["open"] == 100.0 and result["examples"]


@pytest.mark.slow
def test_shortened_demo_end_to_end_writes_sane_results_and_report(tmp_path, tiny_model):
    config = DemoConfig(run_dir=tmp_path / "demo", base_model=tiny_model, train_videos=4, eval_videos=3, cycles=2,
                        train_steps=2, batch_size=8, max_new_tokens=8)
    results = Demo(config, say=lambda message: None).run()
    saved = json.loads((tmp_path / "demo" / "results.json").read_text())
    assert saved["base"] == results["base"] and len(saved["cycles"]) == 2
    for summary in [saved["base"], saved["baseline"], *saved["cycles"]]:
        for group in ("adapted", "general"):
            row = summary[group]
            assert 0.0 <= row["open"] <= 100.0 and 0.0 <= row["open_swapped"] <= 100.0
            assert row["open_grounded"] == pytest.approx(row["open"] - row["open_swapped"], abs=0.02)
            assert 0.0 <= row["majority"] <= 100.0
    assert set(saved["tasks"]) == {"base", "baseline", "cycle_1", "cycle_2"}
    assert set(saved["tasks"]["base"]) == set(GENERAL_TASKS + ADAPTED_TASKS)
    assert all({"open", "open_swapped", "open_grounded", "majority"} <= set(row) for row in saved["tasks"]["base"].values())
    report = CliRunner().invoke(app, ["report", str(tmp_path / "demo")])
    assert report.exit_code == 0, report.output
    page = (tmp_path / "demo" / "report.html").read_text()
    assert "Held-out accuracy: real video, swapped video, grounded" in page and "Yield per cycle" in page and "Example generations" in page
    assert page.count("data:image/png;base64,") == 2
    assert (tmp_path / "demo" / "accuracy.png").stat().st_size > 1000


def test_headline_table_has_real_swapped_grounded_and_the_majority_floor(tmp_path):
    from videostar.report import headline, write_report

    row = {"open": 60.0, "open_swapped": 35.0, "open_grounded": 25.0, "mc": 70.0, "mc_swapped": 40.0,
           "mc_grounded": 30.0, "majority": 33.0}
    results = {"base": {"adapted": row, "general": {**row, "open": 90.0, "open_grounded": 55.0}},
               "baseline": {"adapted": row, "general": row}, "cycles": [{"adapted": row, "general": row}],
               "tasks": {"base": {"object color": {"n": 4, **row}}}, "adapted_tasks": [], "general_tasks": []}
    headers, rows = headline(results)
    assert headers[:7] == ["model", "adapted open", "adapted swapped", "adapted grounded", "adapted MC",
                           "adapted MC swapped", "adapted MC grounded"]
    assert rows[0] == ["base", "60.0", "35.0", "25.0", "70.0", "40.0", "30.0",
                       "90.0", "35.0", "55.0", "70.0", "40.0", "30.0"]
    assert [r[0] for r in rows] == ["base", "baseline", "cycle_1", "majority answer (no video)"]
    assert rows[-1][1:4] == ["33.0", "-", "-"]
    (tmp_path / "results.json").write_text(json.dumps(results))
    page = write_report(tmp_path).read_text()
    assert "<td>base</td><td>60.0</td><td>35.0</td><td>25.0</td>" in page and "<td>object color</td>" in page


def test_report_refuses_an_empty_directory(tmp_path):
    result = runner.invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 1 and "nothing to report" in result.output


@pytest.mark.slow
def test_shortened_pretrain_rebuild_is_deterministic(tmp_path):
    from videostar.models.hf import load_processor_and_model

    config = PretrainConfig(videos=10, steps=2, batch_size=4)
    first = pretrain(tmp_path / "a", config, work=tmp_path / "wa")
    second = pretrain(tmp_path / "b", config, work=tmp_path / "wb")
    assert first["losses"] == second["losses"] and first["instructions"] == 9 * 10
    assert (tmp_path / "a" / "model.safetensors").read_bytes() == (tmp_path / "b" / "model.safetensors").read_bytes()
    record = json.loads((tmp_path / "a" / "PRETRAIN.json").read_text())
    assert record["command"].startswith("videostar toy pretrain") and record["parameters"] > 500_000
    processor, model = load_processor_and_model(str(tmp_path / "a"), device="cpu")
    assert model.config.text_config.hidden_size == 128
