import json

import numpy as np
import pytest
from typer.testing import CliRunner

from videostar.cli import app
from videostar.data.manifest import load_manifest
from videostar.demo import Demo, DemoConfig, summarize
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
def test_shortened_demo_with_ablations_and_two_seeds_writes_sane_results_and_report(tmp_path, tiny_model):
    from videostar.demo import ABLATIONS, _demo_grpo

    grpo = _demo_grpo().model_copy(update={"group_size": 2, "batch_size": 2, "max_completion_length": 8})
    config = DemoConfig(run_dir=tmp_path / "demo", base_model=tiny_model, train_videos=4, eval_videos=3, cycles=2,
                        train_steps=2, batch_size=8, max_new_tokens=8, ablations=True, repeats=2, grpo=grpo)
    results = Demo(config, say=lambda message: None).run()
    saved = json.loads((tmp_path / "demo" / "results.json").read_text())
    assert saved["base"] == results["base"] and len(saved["cycles"]) == 2 and saved["seeds"] == [0, 1]
    assert list(saved["ablations"]) == list(ABLATIONS)
    for summary in [saved["base"], saved["baseline"], *saved["cycles"], *saved["ablations"].values()]:
        for group in ("adapted", "general"):
            row = summary[group]
            assert 0.0 <= row["open"] <= 100.0 and 0.0 <= row["open_swapped"] <= 100.0
            assert row["open_grounded"] == pytest.approx(row["open"] - row["open_swapped"], abs=0.02)
            assert 0.0 <= row["majority"] <= 100.0
    for seed in (0, 1):  # every model of both seeds was evaluated, each in its own place
        names = {p.stem for p in (tmp_path / "demo" / f"seed{seed}" / "eval").glob("*.json")}
        assert names == {"cycle_1", "cycle_2", "baseline", "no_rationalization_cycle_2", "no_verification_cycle_2",
                         "direct_supervision", "grpo"}
    cycle = [json.loads((tmp_path / "demo" / f"seed{s}" / "eval" / "cycle_2.json").read_text()) for s in (0, 1)]
    values = [summarize(c)["adapted"]["open"] for c in cycle]
    assert saved["cycles"][1]["adapted"]["open"] == pytest.approx(sum(values) / 2, abs=0.01)
    assert saved["cycles"][1]["spread"]["adapted"]["open"] == pytest.approx(abs(values[0] - values[1]) / 2, abs=0.01)
    # no verification kept every answer; Video-STaR kept only verified ones (or rationalizations)
    plain = (tmp_path / "demo" / "seed0" / "no_verification" / "cycle_0" / "train.jsonl").read_text().splitlines()
    assert len(plain) >= len((tmp_path / "demo" / "seed0" / "no_rationalization" / "cycle_0" / "train.jsonl")
                             .read_text().splitlines())
    assert set(saved["tasks"]) == {"base", "baseline", "cycle_1", "cycle_2", *ABLATIONS}
    assert set(saved["tasks"]["base"]) == set(GENERAL_TASKS + ADAPTED_TASKS)
    assert all({"open", "open_swapped", "open_grounded", "majority"} <= set(row) for row in saved["tasks"]["base"].values())
    report = CliRunner().invoke(app, ["report", str(tmp_path / "demo")])
    assert report.exit_code == 0, report.output
    page = (tmp_path / "demo" / "report.html").read_text()
    assert "Held-out accuracy: real video, swapped video, grounded" in page and "Yield per cycle" in page and "Example generations" in page
    assert "<td>no verification</td>" in page and "<td>grpo</td>" in page and " ±" in page
    assert page.count("data:image/png;base64,") == 2
    assert (tmp_path / "demo" / "accuracy.png").stat().st_size > 1000


def test_direct_supervision_rows_are_gold_answers_in_the_evaluated_forms(tmp_path):
    config = DemoConfig(run_dir=tmp_path, train_videos=12)
    make_toy_dataset(tmp_path / "data" / "train", 12, seed=1, labeler="demo")
    demo = Demo(config)
    answers = {}  # video -> the gold answers of its samples
    for sample in load_manifest(demo.train):
        answers.setdefault(sample.video, set()).add(sample.labels[0].render())
    direct, gold = demo._gold_rows(0, direct_only=True), demo._gold_rows(0, direct_only=False)
    assert direct and all(r["response"] in answers[r["video"]] for r in direct)
    opened = [r for r in gold if "Options:" not in r["prompt"]]
    chosen = [r for r in gold if "Options:" in r["prompt"]]
    # one open answer per template question, plus multiple choice (4 options, as Video-STaR trains it)
    assert len(opened) == len(direct) and {r["video"] for r in chosen} == set(answers)
    assert all(r["response"].startswith("Final answer: ") for r in opened)
    for r in chosen:  # the letter picks the option that holds a gold answer of that video
        letter = r["response"][1]
        option = next(line for line in r["prompt"].splitlines() if line.startswith(f"({letter}) "))[4:]
        assert r["response"] == f"({letter}) {option}"
        assert option in answers[r["video"]]


def test_combined_runs_are_the_mean_with_half_the_range():
    from videostar.demo import combine

    runs = [{"adapted": {"open": 40.0, "mc": 10.0}}, {"adapted": {"open": 50.0, "mc": 10.0}}]
    assert combine(runs) == {"adapted": {"open": 45.0, "mc": 10.0}, "spread": {"adapted": {"open": 5.0, "mc": 0.0}}}


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
    two_seeds = {**results, "seeds": [0, 1], "ablations": {"grpo": {"adapted": row, "general": row,
                                                                     "spread": {"adapted": {"open": 2.5}}}}}
    _, rows2 = headline(two_seeds)
    assert rows2[3][:3] == ["grpo", "60.0 ±2.5", "35.0"]  # the spread shown where there is one
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
